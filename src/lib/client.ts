/**
 * Who is asking and how: the client address (for throttles and logs) and whether the request came
 * over HTTPS (for `Secure` cookies). `X-Forwarded-For/-Proto/-Host` are believed only from the peers
 * listed in TRUST_PROXY; anybody else could write them.
 */
import type { Server } from "elysia/universal";
import { addressMatcher, ipBytes } from "./net";

export interface ClientInfo {
  /** The client's address: the peer, or the first untrusted hop of X-Forwarded-For behind a trusted proxy. */
  ip: string;
  /** Reached over HTTPS: natively, or as a trusted proxy says with X-Forwarded-Proto. */
  https: boolean;
  /** The host the client asked for (X-Forwarded-Host from a trusted proxy, else Host). */
  host: string | null;
}

const known = new WeakMap<Request, ClientInfo>();

/** Works out the client of a request once (app.ts calls it first thing) and remembers it. */
export function resolveClient(
  server: Server | null | undefined,
  request: Request,
  isTrusted: (address: string) => boolean,
): ClientInfo {
  const peer = server?.requestIP(request)?.address ?? "local";
  const native = new URL(request.url).protocol === "https:";
  let info: ClientInfo = { ip: peer, https: native, host: request.headers.get("host") };
  if (isTrusted(peer)) {
    const chain = (request.headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => ipBytes(s) !== null);
    // The right end was written by our proxy; the first hop it does not vouch for is the client.
    let ip = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      ip = chain[i]!;
      if (!isTrusted(ip)) break;
    }
    const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
    const host = request.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
    info = { ip, https: native || proto === "https", host: host || info.host };
  }
  known.set(request, info);
  return info;
}

export function trustedProxyMatcher(entries: readonly string[]): (address: string) => boolean {
  return addressMatcher(entries);
}

function infoOf(server: Server | null | undefined, request: Request): ClientInfo {
  return known.get(request) ?? resolveClient(server, request, () => false);
}

/** The client address of a request (the booth PC on the LAN); "local" under app.handle() in tests. */
export function clientAddress(server: Server | null | undefined, request: Request): string {
  return infoOf(server, request).ip;
}

/** True when the client reached us over HTTPS (natively or through a trusted proxy). */
export function isHttps(request: Request): boolean {
  return infoOf(null, request).https;
}

/** The host the client asked for, for same-origin checks behind a trusted proxy. */
export function requestHost(request: Request): string | null {
  return infoOf(null, request).host;
}

/**
 * The origin the client used: the scheme and host a trusted proxy reports, else the request's own.
 * (A direct client's Host header is what the request URL is built from anyway.)
 */
export function requestOrigin(request: Request): string {
  const info = infoOf(null, request);
  const own = new URL(request.url);
  const scheme = info.https ? "https" : own.protocol.replace(/:$/, "");
  const host = info.host && /^[A-Za-z0-9.:[\]-]+$/.test(info.host) ? info.host : own.host;
  return `${scheme}://${host}`;
}
