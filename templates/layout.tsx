/** @jsxImportSource @kitajs/html */
/** The page shells: the admin layout (header, navigation, language switch) and the bare guest layout. */
import type { Children } from "@kitajs/html";
import { assetUrl } from "./assets/index";
import { AttentionBanner } from "./attention";
import type { Lang } from "./i18n/index";
import { Icon, type IconName } from "./icons";
import { can, type View } from "./view";

// htmx 2 swaps only 2xx by default; our 4xx answers are readable HTML fragments (validation,
// conflicts), so swap them too. 5xx and JSON answers are turned into a toast by app.js.
const HTMX_CONFIG = JSON.stringify({
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[4]..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ],
  historyCacheSize: 0,
  // The CSP refuses style attributes and the pages have none; htmx would otherwise copy one that a
  // script left on an element (even an empty `style=""`) onto its replacement, which is refused.
  attributesToSettle: ["class", "width", "height"],
  // The CSP allows no inline <style> and no eval: htmx's indicator CSS lives in app.css, and the
  // pages use no hx-on/js: attributes.
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
});

function Head({ v, title }: { v: View; title: string }): JSX.Element {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <title safe>{`${title} · ${v.t.app.name}`}</title>
      <link rel="icon" href={assetUrl("favicon.svg")} type="image/svg+xml" />
      <link rel="stylesheet" href={assetUrl("app.css")} />
      <script src={assetUrl("htmx.min.js")} defer></script>
      <script src={assetUrl("app.js")} defer></script>
    </head>
  );
}

function bodyMessages(v: View) {
  return {
    "data-msg-theme-auto": v.t.console.theme.auto,
    "data-msg-theme-light": v.t.console.theme.light,
    "data-msg-theme-dark": v.t.console.theme.dark,
    "data-msg-copied": v.t.common.copied,
    "data-msg-copy-failed": v.t.common.copyFailed,
    "data-msg-server-error": v.t.common.serverError,
    "data-msg-network-error": v.t.common.networkError,
  };
}

/** A link to the same page in another language. */
export function langHref(v: View, lang: Lang): string {
  const u = new URL(v.path, "http://x");
  u.searchParams.set("lang", lang);
  return `${u.pathname}${u.search}`;
}

export function LangSwitch({ v }: { v: View }): JSX.Element {
  return (
    <nav class="lang-switch" aria-label={v.t.nav.language}>
      <a href={langHref(v, "ru")} aria-current={v.lang === "ru" ? "true" : "false"} hreflang="ru" lang="ru">
        RU
      </a>
      <a href={langHref(v, "en")} aria-current={v.lang === "en" ? "true" : "false"} hreflang="en" lang="en">
        EN
      </a>
    </nav>
  );
}

const NAV: {
  href: string;
  key: "dashboard" | "gallery" | "jobs" | "stats" | "settings" | "system" | "audit";
  icon: IconName;
  scope: string;
}[] = [
  { href: "/", key: "dashboard", icon: "slots", scope: "slots:read" },
  { href: "/gallery", key: "gallery", icon: "image", scope: "slots:read" },
  { href: "/jobs", key: "jobs", icon: "jobs", scope: "slots:read" },
  { href: "/stats", key: "stats", icon: "stats", scope: "stats:read" },
  { href: "/settings", key: "settings", icon: "settings", scope: "settings:read" },
  { href: "/system", key: "system", icon: "server", scope: "slots:read" },
  { href: "/audit", key: "audit", icon: "list", scope: "settings:read" },
];

function isCurrent(path: string, href: string): boolean {
  const p = path.split("?")[0] ?? "/";
  if (href === "/") return p === "/" || p.startsWith("/slots/");
  return p === href || p.startsWith(`${href}/`);
}

/**
 * The console's own pieces on every admin page: the answers region (toasts, aria-live), the
 * confirmation dialog every destructive action asks through (app.js fills in the action and what it
 * destroys), and the keyboard shortcut list (`?`).
 */
function ConsoleParts({ v }: { v: View }): JSX.Element {
  const c = v.t.console;
  return (
    <>
      <div id="toasts" class="toasts" role="status" aria-live="polite" aria-label={c.answers}></div>
      <dialog
        id="confirm-dialog"
        class="confirm-dialog"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-text"
      >
        <form method="dialog" class="stack">
          <h2 id="confirm-title" safe>
            {c.confirmTitle}
          </h2>
          <p id="confirm-text"></p>
          <div class="row confirm-actions">
            <button class="btn ghost" type="submit" value="cancel" autofocus data-confirm-cancel safe>
              {c.keepIt}
            </button>
            <button class="btn danger" type="submit" value="ok" data-confirm-ok safe>
              {c.confirmOk}
            </button>
          </div>
        </form>
      </dialog>
      <dialog id="shortcuts-dialog" aria-labelledby="shortcuts-title">
        <h2 id="shortcuts-title" safe>
          {c.shortcutsTitle}
        </h2>
        <table class="shortcuts">
          <tbody>
            {c.shortcuts.map(([keys, what]) => (
              <tr>
                <th scope="row">
                  <kbd translate="no" safe>
                    {keys}
                  </kbd>
                </th>
                <td safe>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <form method="dialog" class="row">
          <span class="spacer"></span>
          <button class="btn small" type="submit" safe>
            {v.t.common.close}
          </button>
        </form>
      </dialog>
    </>
  );
}

/** Light, dark, or (no choice) the system's: app.js cycles through them and remembers the choice. */
function ThemeSwitch({ v }: { v: View }): JSX.Element {
  const label = v.t.console.theme[v.theme ?? "auto"];
  return (
    <button
      type="button"
      class="btn ghost icon-only"
      data-theme-switch={v.theme ?? "auto"}
      title={label}
      aria-label={label}
    >
      <Icon name="moon" />
    </button>
  );
}

export function Layout({ v, title, children }: { v: View; title: string; children?: Children }): JSX.Element {
  return (
    <html lang={v.lang} data-theme={v.theme}>
      <Head v={v} title={title} />
      <body {...bodyMessages(v)}>
        <a class="skip-link" href="#main" safe>
          {v.t.console.skipToContent}
        </a>
        <header class="topbar">
          <div class="topbar-inner">
            <a class="brand" href="/">
              <span class="logo">
                <Icon name="camera" />
              </span>
              <span safe>{v.t.app.name}</span>
            </a>
            <nav class="nav" aria-label={v.t.nav.mainMenu}>
              {NAV.filter((n) => can(v, n.scope)).map((n) => (
                <a href={n.href} aria-current={isCurrent(v.path, n.href) ? "page" : undefined}>
                  <Icon name={n.icon} />
                  <span safe>{v.t.nav[n.key]}</span>
                </a>
              ))}
            </nav>
            <div class="top-actions">
              <LangSwitch v={v} />
              <ThemeSwitch v={v} />
              <button
                type="button"
                class="btn ghost icon-only hide-on-phone"
                data-dialog="shortcuts-dialog"
                title={v.t.console.shortcutsOpen}
                aria-label={v.t.console.shortcutsOpen}
                aria-keyshortcuts="?"
              >
                <Icon name="keyboard" />
              </button>
              {v.user ? (
                <>
                  <a
                    class="whoami"
                    href="/account"
                    title={v.t.nav.account}
                    aria-current={isCurrent(v.path, "/account") ? "page" : undefined}
                  >
                    <Icon name="user" />
                    <span safe>{v.user.username}</span>
                    <span class="sr-only" safe>
                      {v.t.nav.account}
                    </span>
                  </a>
                  <form method="post" action="/logout">
                    <button
                      class="btn ghost icon-only"
                      type="submit"
                      title={v.t.nav.logout}
                      aria-label={v.t.nav.logout}
                    >
                      <Icon name="logout" />
                    </button>
                  </form>
                </>
              ) : (
                ""
              )}
            </div>
          </div>
        </header>
        <main id="main" tabindex="-1">
          <AttentionBanner v={v} />
          {children}
        </main>
        <ConsoleParts v={v} />
      </body>
    </html>
  );
}

/** Login, guest share pages and errors without a session: no navigation. */
export function BareLayout({
  v,
  title,
  children,
}: {
  v: View;
  title: string;
  children?: Children;
}): JSX.Element {
  return (
    <html lang={v.lang} data-theme={v.theme}>
      <Head v={v} title={title} />
      <body {...bodyMessages(v)}>{children}</body>
    </html>
  );
}
