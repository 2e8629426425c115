/**
 * Does a request carry an admin session? The front door asks before any body is read, to pick the
 * body limit, so the answer must be cheap: one HMAC, no database, no promise. It must also be the
 * answer the admin routes will give (src/modules/auth/plugin.ts, @elysiajs/jwt): the token is read
 * where they read it — the Bearer header, else the one session cookie the request's scheme names,
 * first of its name — and checked as jose checks our tokens (SESSION_VERIFY: HS256 only, `exp`
 * required, `nbf`, strict base64url and UTF-8). test/session-hint.test.ts holds the two side by
 * side. Revocation is left to the route.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../auth/plugin";

const BEARER = /^Bearer\s+(\S+)$/i;
/** The base64url alphabet (RFC 4648 §5). */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The token the admin routes would read from this request, or null. */
export function presentedToken(request: Request, https: boolean): string | null {
  const bearer = request.headers.get("authorization")?.match(BEARER)?.[1];
  if (bearer) return bearer;
  return cookieValue(request.headers.get("cookie"), https ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
}

/**
 * The first cookie named `name`, trimmed of spaces and tabs, as Elysia's parser reads it; null when
 * absent, empty, or percent-encoded (our Set-Cookie never encodes a token, and Elysia would decode
 * it twice).
 */
export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(";", start);
    if (end < 0) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq >= 0 && eq < end && trimTabsAndSpaces(header.slice(start, eq)) === name) {
      const value = trimTabsAndSpaces(header.slice(eq + 1, end));
      return value === "" || value.includes("%") ? null : value;
    }
    start = end + 1;
  }
  return null;
}

function trimTabsAndSpaces(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && (s[from] === " " || s[from] === "\t")) from++;
  while (to > from && (s[to - 1] === " " || s[to - 1] === "\t")) to--;
  return s.slice(from, to);
}

/** True when `token` is an HS256 JWT signed with `secret` that jose would accept at `nowMs` (the app clock's). */
export function verifiesAsSession(token: string, secret: string, nowMs: number): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  const given = base64urlBytes(signature);
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const head = jsonObject(header);
  const claims = jsonObject(payload);
  if (!head || !claims || head.alg !== "HS256" || head.crit !== undefined) return false;
  const now = Math.floor(nowMs / 1000);
  const { exp, nbf, iat } = claims;
  if (typeof exp !== "number" || exp <= now) return false;
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now)) return false;
  return iat === undefined || typeof iat === "number";
}

/**
 * A segment's bytes as jose decodes them: the base64url alphabet, `=` padding allowed only up to a
 * multiple of four characters, unused bits of the last character ignored; null when it is not base64.
 */
function base64urlBytes(segment: string): Buffer | null {
  let end = segment.length;
  while (end > 0 && segment.charCodeAt(end - 1) === 0x3d) end--;
  const padding = segment.length - end;
  if (padding > 2 || (padding > 0 && segment.length % 4 !== 0)) return null;
  const body = segment.slice(0, end);
  if (body.length % 4 === 1 || !BASE64URL.test(body)) return null;
  return Buffer.from(body, "base64url");
}

function jsonObject(segment: string): Record<string, unknown> | null {
  const bytes = base64urlBytes(segment);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
