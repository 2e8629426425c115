/** @jsxImportSource @kitajs/html */
/**
 * The request context of the web UI as a named plugin: the language (query `?lang=` remembered in a
 * cookie, Russian by default), and the `page` macro that signs the admin in from the session
 * cookie — anonymous page loads are redirected to /login, htmx requests get `HX-Redirect`, a
 * missing permission gets a readable 403 page, and cookie-authenticated state changes must come
 * from our own origin.
 */
import { Elysia, status } from "elysia";
import { DEFAULT_LANG, dict, isLang, LANG_COOKIE, type Lang } from "../../../templates/i18n/index";
import { isTheme, THEME_COOKIE, type View } from "../../../templates/view";
import type { Scope } from "../../accounts";
import { errorPageHtml } from "../../app-errors";
import { AppError } from "../../lib/errors";
import { hasControlCharacters } from "../../lib/text";
import type { Services } from "../../services";
import { attentionFor } from "../attention/acks";
import { authenticate, authPlugin, requireSameOrigin, sessionToken } from "../auth/plugin";
import { HTML, isHtmx } from "./render";

const LANG_MAX_AGE = 365 * 86400;

function pathOf(request: Request): string {
  const u = new URL(request.url);
  return `${u.pathname}${u.search}`;
}

/** Where to come back after logging in: the page itself, or for htmx the page that asked. */
function nextFor(request: Request): string {
  const current = request.headers.get("hx-current-url");
  if (current) {
    try {
      const u = new URL(current);
      return `${u.pathname}${u.search}`;
    } catch {
      return "/";
    }
  }
  return pathOf(request);
}

export function loginUrl(next: string, reason?: "expired"): string {
  const q = new URLSearchParams();
  if (next && next !== "/") q.set("next", next);
  if (reason) q.set("reason", reason);
  const s = q.toString();
  return s ? `/login?${s}` : "/login";
}

/**
 * Only a same-origin path is followed after login (no open redirect): it must start with a single
 * `/`, hold no backslash and no control character (browsers drop TAB/CR/LF, so `/\t/evil` would
 * become `//evil`; CR/LF could split the Location header), and resolve to our own origin — checked
 * both before and after the URL is normalised.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || next.length > 2000) return "/";
  if (!next.startsWith("/") || next.startsWith("//") || next.includes("\\") || hasControlCharacters(next)) {
    return "/";
  }
  try {
    const base = "http://photochanger.invalid";
    const u = new URL(next, base);
    if (u.origin !== base) return "/";
    // Checked again after normalising: `/.//evil`, `/..//evil` and `/%2e//evil` become `//evil`,
    // which a browser follows to another host.
    const path = `${u.pathname}${u.search}${u.hash}`;
    return path.startsWith("//") || path.includes("\\") ? "/" : path;
  } catch {
    return "/";
  }
}

export const uiContext = (services: Services) =>
  new Elysia({ name: "ui-context" })
    .use(authPlugin(services))
    .resolve({ as: "scoped" }, ({ query, cookie, request }) => {
      const asked = (query as Record<string, string | undefined>).lang;
      let lang: Lang = DEFAULT_LANG;
      if (isLang(asked)) {
        lang = asked;
        cookie[LANG_COOKIE]!.set({
          value: asked,
          path: "/",
          maxAge: LANG_MAX_AGE,
          sameSite: "lax",
          httpOnly: true,
        });
      } else {
        const remembered = cookie[LANG_COOKIE]?.value;
        if (isLang(remembered)) lang = remembered;
      }
      const chosen = cookie[THEME_COOKIE]?.value;
      const view: View = {
        t: dict(lang),
        lang,
        path: pathOf(request),
        user: null,
        now: services.clock.now(),
        theme: isTheme(chosen) ? chosen : undefined,
      };
      return { view };
    })
    .macro({
      page: (required: Scope | "signed-in") => ({
        async resolve({ jwt, request, cookie, view, set }) {
          set.headers["cache-control"] = "no-store";
          const admin = await authenticate(services, jwt, request, sessionToken(cookie, request));
          if (!admin) {
            const hadSession = !!sessionToken(cookie, request);
            const target = loginUrl(nextFor(request), hadSession ? "expired" : undefined);
            if (isHtmx(request)) {
              set.headers["hx-redirect"] = target;
              return status(401, "");
            }
            set.headers.location = target;
            return status(302, "");
          }
          const signedIn: View = {
            ...(view as View),
            user: { username: admin.username, scopes: admin.scopes },
          };
          // whole pages carry the banner; htmx fragments ask for it themselves (/partials/attention)
          if (request.method === "GET" && !isHtmx(request)) {
            signedIn.attention = await attentionFor(services, admin.username, signedIn.now);
          }
          const refuse = async (err: AppError) => {
            set.headers["content-type"] = HTML;
            return status(403, await errorPageHtml(signedIn, err));
          };
          if (required !== "signed-in" && !admin.scopes.includes(required)) {
            return refuse(new AppError("forbidden", `This needs the "${required}" permission`));
          }
          const m = request.method;
          if (m !== "GET" && m !== "HEAD" && m !== "OPTIONS") {
            try {
              requireSameOrigin(request);
            } catch (err) {
              if (!(err instanceof AppError)) throw err;
              return refuse(err);
            }
          }
          return { admin, view: signedIn };
        },
      }),
    });
