/**
 * Admin authentication as a named Elysia plugin: a JWT (HS256, pinned) from the Bearer header or the
 * HttpOnly session cookie, backed by an `admin_session` row so logout really revokes it. Routes ask
 * for a scope with the `scope` macro; cookie-authenticated state changes must come from our own
 * origin (CSRF), bearer clients are not subject to that check.
 */
import { createHmac, randomUUID } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { and, eq, gt, isNull } from "drizzle-orm";
import { Elysia } from "elysia";
import { adminSession } from "../../db/schema";
import { isHttps, requestHost } from "../../lib/client";
import { AppError } from "../../lib/errors";
import type { Runtime } from "../../runtime";
import { ADMIN_SCOPES, type Scope } from "./users";

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
export function jwtSecret(rt: Runtime): string {
  return createHmac("sha256", rt.settings.masterKeyForDerivation())
    .update("photochanger.jwt.v1")
    .digest("base64");
}

export const authPlugin = (rt: Runtime) =>
  new Elysia({ name: "auth" })
    .use(jwt({ name: "jwt", secret: jwtSecret(rt), alg: "HS256", exp: `${rt.config.jwtTtlSeconds}s` }))
    .macro({
      scope: (required: Scope) => ({
        async resolve({ jwt, request, cookie }) {
          const admin = await authenticate(rt, jwt, request, sessionToken(cookie, request));
          if (!admin)
            throw new AppError(401, "unauthorized", "Log in first (the session is missing or has expired)");
          if (!admin.scopes.includes(required)) {
            throw new AppError(403, "forbidden", `This needs the "${required}" permission`, { required });
          }
          if (admin.via === "cookie" && !isSafeMethod(request.method)) requireSameOrigin(request, rt);
          return { admin };
        },
      }),
    });

type Verifier = { verify(token?: string): Promise<false | Record<string, unknown>> };

/** The admin behind a request, or null (no token, bad signature, expired, revoked). */
export async function authenticate(
  rt: Runtime,
  verifier: Verifier,
  request: Request,
  cookieToken: string | undefined,
): Promise<AdminIdentity | null> {
  const header = request.headers.get("authorization");
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? cookieToken;
  if (!token) return null;
  const payload = await verifier.verify(token);
  if (!payload || typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
  const scopes = ADMIN_SCOPES[payload.sub];
  if (!scopes) return null;
  const [session] = await rt.db
    .select({ id: adminSession.id })
    .from(adminSession)
    .where(
      and(
        eq(adminSession.id, payload.sid),
        eq(adminSession.username, payload.sub),
        isNull(adminSession.revokedAt),
        gt(adminSession.expiresAt, rt.clock.now()),
      ),
    );
  if (!session) return null;
  return { username: payload.sub, scopes, sessionId: payload.sid, via: bearer ? "bearer" : "cookie" };
}

/** Creates a session row and its signed token. */
export async function issueSession(
  rt: Runtime,
  signer: { sign(p: Record<string, string | number>): Promise<string> },
  username: string,
  clientIp: string | null,
): Promise<{ token: string; expiresIn: number; sessionId: string }> {
  const id = randomUUID();
  const now = rt.clock.now();
  const expiresIn = rt.config.jwtTtlSeconds;
  await rt.db.insert(adminSession).values({
    id,
    username,
    createdAt: now,
    expiresAt: new Date(now.getTime() + expiresIn * 1000),
    clientIp,
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

export async function revokeSession(rt: Runtime, sessionId: string): Promise<void> {
  await rt.db.update(adminSession).set({ revokedAt: rt.clock.now() }).where(eq(adminSession.id, sessionId));
}

function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}

/**
 * Cross-site request refusal for cookie sessions: the browser's Sec-Fetch-Site when present, else
 * Origin (or Referer) must match the Host we were reached at.
 */
export function requireSameOrigin(request: Request, _rt?: Runtime): void {
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
  throw new AppError(403, "csrf_refused", "Cross-site request refused: use the admin pages of this server");
}
