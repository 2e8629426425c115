/**
 * Admin authentication as a named Elysia plugin: a JWT (HS256, pinned) from the Bearer header or the
 * HttpOnly session cookie, backed by an `admin_session` row so logout really revokes it. Routes ask
 * for a scope with the `scope` macro; cookie-authenticated state changes must come from our own
 * origin (CSRF), bearer clients are not subject to that check.
 */

import { createHmac, randomUUID } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { Elysia } from "elysia";
import { SCOPES, type Scope } from "../../accounts";
import { isHttps, requestHost } from "../../lib/client";
import { AppError } from "../../lib/errors";
import { storableUserAgent } from "../../lib/user-agent";
import type { Services } from "../../services";

/** The session cookie over plain HTTP (a LAN address, where `Secure` cannot work). */
export const SESSION_COOKIE = "pc_session";
/** Over HTTPS: `Secure`, host-only and path `/`, which the `__Host-` prefix makes the browser enforce. */
export const SECURE_SESSION_COOKIE = "__Host-pc_session";

type CookieJar = Record<
  string,
  { value?: unknown; set(v: Record<string, unknown>): unknown; remove(): unknown } | undefined
>;

/** The cookie name for this request: `__Host-` whenever the client came over HTTPS. */
export function sessionCookieName(request: Request): string {
  return isHttps(request) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/**
 * The session token from the cookie. Over HTTPS only the `__Host-` cookie counts: a plain-named one
 * could have been planted by anyone on the network path over HTTP.
 */
export function sessionToken(cookie: CookieJar, request: Request): string | undefined {
  const value = cookie[sessionCookieName(request)]?.value;
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function clearSessionCookie(cookie: CookieJar, request: Request): void {
  const name = sessionCookieName(request);
  if (name === SECURE_SESSION_COOKIE) {
    // A `__Host-` cookie is only replaced when the removal carries the same attributes.
    cookie[name]?.set({ value: "", path: "/", secure: true, httpOnly: true, sameSite: "strict", maxAge: 0 });
  } else {
    cookie[name]?.remove();
  }
}

export interface AdminIdentity {
  username: string;
  scopes: Scope[];
  sessionId: string;
  via: "bearer" | "cookie";
}

/** The HS256 signing key, derived from the master key so it survives restarts and stays off disk. */
export function jwtSecret(services: Pick<Services, "settings">): string {
  return createHmac("sha256", services.settings.masterKeyForDerivation())
    .update("photochanger.jwt.v1")
    .digest("base64");
}

export const authPlugin = (services: Services) =>
  new Elysia({ name: "auth" })
    .use(
      jwt({
        name: "jwt",
        secret: jwtSecret(services),
        alg: "HS256",
        exp: `${services.config.jwtTtlSeconds}s`,
      }),
    )
    .macro({
      scope: (required: Scope) => ({
        async resolve({ jwt, request, cookie }) {
          const admin = await authenticate(services, jwt, request, sessionToken(cookie, request));
          if (!admin)
            throw new AppError("unauthorized", "Log in first (the session is missing or has expired)");
          if (!admin.scopes.includes(required)) {
            throw new AppError("forbidden", `This needs the "${required}" permission`, { required });
          }
          if (admin.via === "cookie" && !isSafeMethod(request.method)) requireSameOrigin(request);
          return { admin };
        },
      }),
    });

/**
 * How a session token is verified: HS256 only (jose would otherwise take any HMAC algorithm the
 * key fits) and never without an expiry. The front door's cheap check (front-door/session-hint.ts)
 * gives the same verdict; test/session-hint.test.ts holds them side by side.
 */
export const SESSION_VERIFY = { algorithms: ["HS256"], requiredClaims: ["exp"] };

type Verifier = {
  verify(token?: string, options?: typeof SESSION_VERIFY): Promise<false | Record<string, unknown>>;
};

/** The admin behind a request, or null (no token, bad signature, expired, revoked). */
export async function authenticate(
  services: Pick<Services, "store" | "clock">,
  verifier: Verifier,
  request: Request,
  cookieToken: string | undefined,
): Promise<AdminIdentity | null> {
  const header = request.headers.get("authorization");
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? cookieToken;
  if (!token) return null;
  const payload = await verifier.verify(token, SESSION_VERIFY);
  if (!payload || typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
  const stored = await services.store.auth.liveSessionScopes(payload.sid, payload.sub, services.clock.now());
  if (!stored) return null;
  const scopes = SCOPES.filter((s) => stored.includes(s));
  return { username: payload.sub, scopes, sessionId: payload.sid, via: bearer ? "bearer" : "cookie" };
}

/** Creates a session row and its signed token. */
export async function issueSession(
  services: Pick<Services, "store" | "clock" | "config">,
  signer: { sign(p: Record<string, string | number>): Promise<string> },
  username: string,
  clientIp: string | null,
  userAgent: string | null = null,
): Promise<{ token: string; expiresIn: number; sessionId: string }> {
  const id = randomUUID();
  const now = services.clock.now();
  const expiresIn = services.config.jwtTtlSeconds;
  await services.store.auth.createSession({
    id,
    username,
    createdAt: now,
    expiresAt: new Date(now.getTime() + expiresIn * 1000),
    clientIp,
    userAgent: storableUserAgent(userAgent),
  });
  const token = await signer.sign({ sub: username, sid: id });
  return { token, expiresIn, sessionId: id };
}

/** The HttpOnly, SameSite=Strict session cookie; `Secure` + `__Host-` when reached over HTTPS. */
export function setSessionCookie(
  cookie: CookieJar,
  session: { token: string; expiresIn: number },
  request: Request,
): void {
  cookie[sessionCookieName(request)]!.set({
    value: session.token,
    httpOnly: true,
    sameSite: "strict",
    path: "/",
    maxAge: session.expiresIn,
    secure: isHttps(request),
  });
}

export async function revokeSession(
  services: Pick<Services, "store" | "clock">,
  sessionId: string,
): Promise<void> {
  await services.store.auth.revokeSession(sessionId, services.clock.now());
}

function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}

/**
 * Cross-site request refusal for cookie sessions: the browser's Sec-Fetch-Site when present, else
 * Origin (or Referer) must match the Host we were reached at.
 */
export function requireSameOrigin(request: Request): void {
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin" || site === "none") return;
  const host = requestHost(request);
  const origin = request.headers.get("origin") ?? request.headers.get("referer");
  if (site !== "cross-site" && site !== "same-site" && host && origin) {
    try {
      if (new URL(origin).host === host) return;
    } catch {
      // malformed origin: refused below
    }
  }
  throw new AppError("csrf_refused", "Cross-site request refused: use the admin pages of this server");
}
