/**
 * Absolute links the admin API hands out (ingest URLs, result and thumbnail links): built on the
 * `public_base_url` setting when one is set, else on the address the admin reached us at, so the
 * ingest URL shown on a LAN is one the booth PC can actually use.
 */

/** `public_base_url` (without a trailing slash) or the request's own origin. */
export function linkBase(publicBaseUrl: string | null, requestUrl: string): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, "");
  return new URL(requestUrl).origin;
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

/** The link base for a request: the `public_base_url` setting, else the request's origin. */
export async function linkBaseFor(
  settings: { current(): Promise<{ publicBaseUrl: string | null }> },
  requestUrl: string,
): Promise<string> {
  return linkBase((await settings.current()).publicBaseUrl, requestUrl);
}
