/**
 * What every request meets before any route parses it: who the client is (TRUST_PROXY), the
 * security headers, ids and queries with control characters, body limits for anyone who is not
 * signed in, and a per-address rate limit on the public routes. A single anonymous client must not
 * be able to make the box parse megabytes or serve thousands of files a second.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { refusalResponse } from "../../app-errors";
import { resolveClient, trustedProxyMatcher } from "../../lib/client";
import { AppError } from "../../lib/errors";
import { hasControlCharacters } from "../../lib/text";
import type { Services } from "../../services";
import { jwtSecret, SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../auth/plugin";
import { TokenBuckets } from "./rate-limit";

/** Login and logout forms are a username and a password: a few KB is generous. */
export const LOGIN_BODY_LIMIT = 8 * 1024;
/** Any other body from a client without a validly signed session (the admin JSON is small). */
export const ANONYMOUS_BODY_LIMIT = 16 * 1024;

const LOGIN_PATHS = new Set(["/login", "/api/login", "/logout", "/api/logout"]);
/** Ingest reads its own body as a stream, with the slot's limit and the password first. */
const STREAMED = /^\/(api\/)?ingest\//;
const PUBLIC = /^\/(public|r|g)\//;

/**
 * Pages: only our own scripts, styles and images (blob: for the upload preview, data: for inline
 * SVG icons), no framing, forms post only to us. No inline style of any kind: not a style element,
 * not a style attribute (the templates use classes from app.css; app.js sets none either), so
 * injected markup cannot restyle a page even if it got past the escaping.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const frontDoor = (rt: Pick<Services, "config" | "settings">) => {
  const isTrusted = trustedProxyMatcher(rt.config.trustProxy);
  const secret = jwtSecret(rt);
  const buckets = new TokenBuckets(PUBLIC_BURST, PUBLIC_PER_SECOND);
  return new Elysia({ name: "front-door" }).onRequest(({ request, server, set }) => {
    const client = resolveClient(server, request, isTrusted);
    const url = new URL(request.url);
    set.headers["x-content-type-options"] = "nosniff";
    set.headers["content-security-policy"] = CONTENT_SECURITY_POLICY;
    set.headers["referrer-policy"] = "same-origin";
    set.headers["x-frame-options"] = "DENY";
    if (client.https) set.headers["strict-transport-security"] = "max-age=31536000";
    if (url.pathname.startsWith("/api/")) set.headers["cache-control"] = "no-store";

    const refusal = refuse(request, url, client.ip);
    if (refusal) return refusalResponse(request, refusal);
  });

  function refuse(request: Request, url: URL, ip: string): AppError | null {
    const path = safeDecode(url.pathname);
    if (path === null || hasControlCharacters(path)) return new AppError("not_found", "No such resource");
    const query = safeDecode(url.search.replaceAll("+", " "));
    if (query === null || query.includes("\u0000")) {
      return new AppError("invalid_request", "The query string holds a NUL or broken escape");
    }
    if (PUBLIC.test(url.pathname)) {
      const wait = buckets.take(ip);
      if (wait > 0) {
        return new AppError(
          "too_many_requests",
          "Too many requests from this address; slow down",
          { retry_after_seconds: wait },
          { "Retry-After": String(wait) },
        );
      }
    }
    if (!hasBody(request) || STREAMED.test(url.pathname)) return null;
    const limit = LOGIN_PATHS.has(url.pathname)
      ? LOGIN_BODY_LIMIT
      : signedIn(request, secret)
        ? null
        : ANONYMOUS_BODY_LIMIT;
    if (limit === null) return null;
    const declared = request.headers.get("content-length");
    if (declared === null) {
      // Without a length the body could only be measured by reading it, which is the cost refused here.
      return new AppError("length_required", "Send a Content-Length with this request", {
        max_bytes: limit,
      });
    }
    if (!/^\d+$/.test(declared) || Number(declared) > limit) {
      return new AppError("payload_too_large", `The request body is larger than ${limit} bytes`, {
        max_bytes: limit,
      });
    }
    return null;
  }
};

/** Public pages and files: a burst of 120, then 4 a second per address (a guest page is ~6 requests). */
const PUBLIC_BURST = 120;
const PUBLIC_PER_SECOND = 4;

function hasBody(request: Request): boolean {
  const m = request.method;
  if (m === "GET" || m === "HEAD" || m === "OPTIONS") return false;
  const length = request.headers.get("content-length");
  return (length !== null && length !== "0") || request.headers.has("transfer-encoding");
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * True when the request carries an HS256 token signed with our key and not yet expired (bearer or
 * session cookie). Revocation is checked later by the route; this only decides whether a body is
 * worth reading, so it must be cheap: one HMAC, no database.
 */
function signedIn(request: Request, secret: string): boolean {
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const tokens = bearer ? [bearer] : cookieValues(request.headers.get("cookie"));
  return tokens.some((t) => validToken(t, secret));
}

function cookieValues(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    if (name === SESSION_COOKIE || name === SECURE_SESSION_COOKIE) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

function validToken(token: string, secret: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  try {
    const head = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: string };
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: number };
    return head.alg === "HS256" && typeof claims.exp === "number" && claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}
