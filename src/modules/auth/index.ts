/** POST /api/login and /api/logout. */
import { Elysia, t } from "elysia";
import { clientAddress } from "../../lib/client";
import type { Services } from "../../services";
import { op } from "../openapi/docs";
import {
  authenticate,
  authPlugin,
  clearSessionCookie,
  issueSession,
  revokeSession,
  sessionToken,
  setSessionCookie,
} from "./plugin";
import { checkLogin } from "./service";

export const authModule = (services: Services) =>
  new Elysia({ name: "auth-routes" })
    .use(authPlugin(services))
    .post(
      "/api/login",
      async ({ body, jwt, request, server, cookie, set }) => {
        const ip = clientAddress(server, request);
        await checkLogin(services, body.username, body.password, ip);
        const session = await issueSession(
          services,
          jwt,
          body.username,
          ip,
          request.headers.get("user-agent"),
        );
        setSessionCookie(cookie, session, request);
        set.headers["cache-control"] = "no-store";
        return { access_token: session.token, token_type: "bearer", expires_in: session.expiresIn };
      },
      {
        body: t.Object({
          username: t.String({ minLength: 1, maxLength: 64 }),
          password: t.String({ minLength: 1, maxLength: 256 }),
        }),
        detail: op({
          tag: "auth",
          summary: "Log in: a bearer token and an HttpOnly SameSite=Strict session cookie",
          description:
            "5 failed logins per user and address within 15 minutes → 429 login_throttled with Retry-After. " +
            "Unknown users and wrong passwords get the same answer.",
          ok: {
            schema: t.Object({
              access_token: t.String(),
              token_type: t.Literal("bearer"),
              expires_in: t.Integer({ description: "Seconds" }),
            }),
          },
          errors: [400, 401, 429],
        }),
      },
    )
    .post(
      "/api/logout",
      async ({ jwt, request, cookie, set }) => {
        const admin = await authenticate(services, jwt, request, sessionToken(cookie, request));
        if (admin) await revokeSession(services, admin.sessionId);
        clearSessionCookie(cookie, request);
        set.status = 204;
      },
      {
        detail: op({
          tag: "auth",
          summary: "Log out: the session is revoked (the token stops working) and the cookie cleared",
          ok: { status: 204, description: "Logged out" },
        }),
      },
    );
