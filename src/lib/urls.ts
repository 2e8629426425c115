/**
 * Absolute links the admin API hands out (ingest URLs, result and thumbnail links): built on the
 * `public_base_url` setting when one is set, else on the address the admin reached us at, so the
 * ingest URL shown on a LAN is one the booth PC can actually use.
 */
import { requestOrigin } from "./client";

/**
 * `public_base_url` (without a trailing slash), else the origin the client used: behind a proxy in
 * TRUST_PROXY, the scheme and host it reports (`X-Forwarded-Proto`/`-Host`), else the request's own.
 */
export function linkBase(publicBaseUrl: string | null, request: Request): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, "");
  return requestOrigin(request);
}

export function ingestUrl(base: string, slotId: string): string {
  return `${base}/ingest/${slotId}`;
}

export function resultLinks(
  base: string,
  jobId: string,
): { result_url: string; download_url: string; thumb_url: string } {
  const result = `${base}/public/results/${jobId}`;
  return { result_url: result, download_url: `${result}?download=1`, thumb_url: `${result}/thumb` };
}

/** The link base for a request: the `public_base_url` setting, else the client's origin. */
export async function linkBaseFor(
  settings: { current(): Promise<{ publicBaseUrl: string | null }> },
  request: Request,
): Promise<string> {
  return linkBase((await settings.current()).publicBaseUrl, request);
}
