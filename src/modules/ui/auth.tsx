/** @jsxImportSource @kitajs/html */
/** GET/POST /login and POST /logout for the web UI: the same checks and session as /api/login. */
import { Elysia } from "elysia";
import type { Server } from "elysia/universal";
import { LoginForm, LoginPage, type LoginState } from "../../../templates/pages/login";
import type { View } from "../../../templates/view";
import { clientAddress } from "../../lib/client";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import {
  authenticate,
  clearSessionCookie,
  issueSession,
  revokeSession,
  sessionToken,
  setSessionCookie,
} from "../auth/plugin";
import { checkLogin } from "../auth/service";
import { safeNext, uiContext } from "./context";
import { isHtmx, render } from "./render";

function loginError(v: View, err: unknown): string {
  if (err instanceof AppError && err.code === "login_throttled") {
    const seconds = Number(err.details.retry_after_seconds ?? 60);
    return v.t.login.throttled(Math.max(1, Math.ceil(seconds / 60)));
  }
  if (err instanceof AppError && err.code === "invalid_credentials") return v.t.login.invalid;
  throw err;
}

export const uiAuthRoutes = (services: Services) =>
  new Elysia({ name: "ui-auth" })
    .use(uiContext(services))
    .get("/login", async ({ query, view, jwt, request, cookie }) => {
      const next = safeNext(query.next);
      const admin = await authenticate(services, jwt, request, sessionToken(cookie, request));
      if (admin) return new Response(null, { status: 302, headers: { Location: next } });
      const notice =
        query.reason === "expired"
          ? view.t.login.expired
          : query.reason === "logout"
            ? view.t.login.loggedOut
            : undefined;
      return render(<LoginPage v={view} s={{ next, notice }} />);
    })
    .post("/login", async ({ body, view, jwt, request, server, cookie }) => {
      const form = (body ?? {}) as Record<string, unknown>;
      const username = typeof form.username === "string" ? form.username.trim() : "";
      const password = typeof form.password === "string" ? form.password : "";
      const state: LoginState = { next: safeNext(form.next), username };
      const fail = (error: string, status: number) =>
        render(
          isHtmx(request) ? (
            <LoginForm v={view} s={{ ...state, error }} />
          ) : (
            <LoginPage v={view} s={{ ...state, error }} />
          ),
          { status },
        );
      if (!username || !password || username.length > 64 || password.length > 256) {
        return fail(view.t.login.empty, 400);
      }
      const ip = clientAddress(server as Server | null, request);
      try {
        await checkLogin(services, username, password, ip);
      } catch (err) {
        return fail(loginError(view, err), err instanceof AppError ? err.status : 500);
      }
      const session = await issueSession(services, jwt, username, ip, request.headers.get("user-agent"));
      setSessionCookie(cookie, session, request);
      if (isHtmx(request)) return new Response(null, { status: 200, headers: { "HX-Redirect": state.next } });
      return new Response(null, { status: 303, headers: { Location: state.next } });
    })
    .post("/logout", async ({ jwt, request, cookie }) => {
      const admin = await authenticate(services, jwt, request, sessionToken(cookie, request));
      if (admin) await revokeSession(services, admin.sessionId);
      clearSessionCookie(cookie, request);
      return new Response(null, { status: 303, headers: { Location: "/login?reason=logout" } });
    });
