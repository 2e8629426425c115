/**
 * What every request meets before any route parses it: who the client is (TRUST_PROXY), the
 * security headers, ids and queries with control characters, body limits for anyone who is not
 * signed in, and a per-address rate limit on the public routes. A single anonymous client must not
 * be able to make the box parse megabytes or serve thousands of files a second.
 */
import { Elysia } from "elysia";
import { refusalResponse } from "../../app-errors";
import { resolveClient, trustedProxyMatcher } from "../../lib/client";
import { AppError } from "../../lib/errors";
import { hasControlCharacters } from "../../lib/text";
import type { Services } from "../../services";
import { jwtSecret } from "../auth/plugin";
import { TokenBuckets } from "./rate-limit";
import { presentedToken, verifiesAsSession } from "./session-hint";

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

export const frontDoor = (services: Pick<Services, "config" | "settings" | "clock">) => {
  const isTrusted = trustedProxyMatcher(services.config.trustProxy);
  const secret = jwtSecret(services);
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

    const refusal = refuse(request, url, client.ip, client.https);
    if (refusal) return refusalResponse(request, refusal);
  });

  function refuse(request: Request, url: URL, ip: string, https: boolean): AppError | null {
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
      : signedIn(request, https)
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

  /** A validly signed, unexpired session token (revocation is checked later, by the route). */
  function signedIn(request: Request, https: boolean): boolean {
    const token = presentedToken(request, https);
    return token !== null && verifiesAsSession(token, secret, services.clock.now().getTime());
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
