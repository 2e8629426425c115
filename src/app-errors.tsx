/** @jsxImportSource @kitajs/html */
/**
 * The one place an error becomes an answer. Whatever was thrown — an AppError, Elysia's own
 * NOT_FOUND / VALIDATION / PARSE, or anything unexpected (logged with a correlation id, answered as
 * a 500 `internal_error` carrying that id) — becomes one AppError, rendered as:
 * - the JSON envelope for the machine interfaces (/api, /ingest, /public, /metrics, /healthz,
 *   /readyz) and for clients that did not ask for HTML;
 * - an HTML error page for the web UI's pages (an alert fragment for htmx requests), with the
 *   text of the code in the page's language from the error registry.
 */
import { randomUUID } from "node:crypto";
import { Alert } from "../templates/components";
import { DEFAULT_LANG, dict, isLang, LANG_COOKIE, type Lang } from "../templates/i18n/index";
import { ErrorPage } from "../templates/pages/error";
import { errorText, type View } from "../templates/view";
import { AppError, databaseUnavailable, errorResponse, mediaUnavailable } from "./lib/errors";
import { isDatabaseUnavailable } from "./lib/http";
import type { Logger } from "./lib/log";
import { isStorageUnavailable } from "./media/storage";
import { render } from "./modules/ui/render";

/** Paths whose clients are programs (booths, scripts, Prometheus): they always get JSON. */
const MACHINE_PATHS = /^\/(api|ingest|public|metrics|healthz|readyz)(\/|$)/;

/**
 * Logs an unexpected failure under a fresh correlation id and returns the 500 that carries it: the
 * client sees the id, the log has the details.
 */
export function internalError(
  log: Logger,
  cause: unknown,
  fields: Record<string, unknown> = {},
  details: Record<string, unknown> = {},
): AppError {
  const correlationId = randomUUID();
  log.error("http.internal_error", {
    ...fields,
    correlation_id: correlationId,
    error: cause,
    stack: cause instanceof Error ? cause.stack?.split("\n").slice(0, 6).join(" | ") : undefined,
  });
  return new AppError("internal_error", "Something went wrong on the server", {
    ...details,
    correlation_id: correlationId,
  });
}

/** Elysia's own error codes as AppErrors; null for anything unexpected. */
function known(error: unknown, code: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (code === "NOT_FOUND") return new AppError("not_found", "No such endpoint");
  if (code === "VALIDATION") {
    return new AppError("invalid_request", "The request is not valid", validationDetails(error));
  }
  if (code === "PARSE") return new AppError("invalid_payload", "The request body could not be parsed");
  // A page or API call that met a database outage (or a call past its bound): 503, not a 500.
  if (isDatabaseUnavailable(error)) return databaseUnavailable();
  // The same for the media bucket (refused, hanging past its bound, failing): 503, not a 500.
  if (isStorageUnavailable(error)) return mediaUnavailable();
  if (isUnstorableText(error)) {
    // A NUL or broken UTF-8 that got as far as PostgreSQL: bad input, not a server fault.
    return new AppError(
      "invalid_request",
      "The request holds characters that cannot be stored (such as NUL)",
    );
  }
  return null;
}

/** PostgreSQL's "untranslatable character" / "invalid byte sequence" (e.g. \u0000 in text or jsonb). */
function isUnstorableText(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | null, i = 0; e && i < 4; i++) {
    if (e.code === "22P05" || e.code === "22021") return true;
    e = e.cause as typeof e;
  }
  return false;
}

function validationDetails(error: unknown): Record<string, unknown> {
  const all = (error as { all?: { path?: string; message?: string }[] }).all;
  if (!Array.isArray(all)) return {};
  return {
    fields: all.map((e) => ({
      field: (e.path ?? "").replace(/^\//, "").replaceAll("/", "."),
      message: e.message,
    })),
  };
}

function langOf(request: Request): Lang {
  const asked = new URL(request.url).searchParams.get("lang");
  if (isLang(asked)) return asked;
  const cookie = request.headers.get("cookie") ?? "";
  const m = cookie.match(new RegExp(`(?:^|;\\s*)${LANG_COOKIE}=([a-z]+)`));
  return m && isLang(m[1]) ? m[1] : DEFAULT_LANG;
}

/** How the error is shown: JSON, a whole page, or (htmx) a fragment. */
function rendering(request: Request, routeMatched: boolean): "json" | "page" | "fragment" {
  const path = new URL(request.url).pathname;
  if (MACHINE_PATHS.test(path)) return "json";
  if (request.headers.get("hx-request") === "true") return "fragment";
  // A page route answers with a page; an unknown URL only when a browser navigated to it.
  if (routeMatched || (request.headers.get("accept") ?? "").includes("text/html")) return "page";
  return "json";
}

export interface ErrorContext {
  error: unknown;
  code: unknown;
  request: Request;
  /** The page's view when the UI context resolved before the error (signed-in header, language). */
  view?: View;
}

export async function handleError(log: Logger, ctx: ErrorContext): Promise<Response> {
  const { request } = ctx;
  const url = new URL(request.url);
  const err =
    known(ctx.error, ctx.code) ??
    internalError(log, ctx.error, { method: request.method, path: url.pathname });
  return answer(request, err, ctx.code !== "NOT_FOUND", ctx.code === "NOT_FOUND", ctx.view);
}

/**
 * A refusal of the front door (before any route matched: a broken path, too many requests, a body
 * too large), answered like the app's own errors: JSON for programs, the error page for a browser
 * that navigated to a page path, an alert for htmx.
 */
export function refusalResponse(request: Request, err: AppError): Promise<Response> | Response {
  return answer(request, err, false, err.code === "not_found");
}

function answer(
  request: Request,
  err: AppError,
  routeMatched: boolean,
  unknownUrl: boolean,
  view?: View,
): Promise<Response> | Response {
  const url = new URL(request.url);
  const how = rendering(request, routeMatched);
  if (how === "json") return errorResponse(err);
  const lang = view?.lang ?? langOf(request);
  const v: View = view ?? {
    t: dict(lang),
    lang,
    path: `${url.pathname}${url.search}`,
    user: null,
    now: new Date(),
  };
  if (how === "page") return errorPage(v, err, unknownUrl);
  return render(
    <Alert kind="error">
      <span safe>{pageText(v, err, false)}</span>
    </Alert>,
    { status: err.status, headers: err.headers },
  );
}

/** The page's words for an error: the code's text in its language, and the correlation id of a 500. */
function pageText(v: View, err: AppError, unknownUrl: boolean): string {
  if (unknownUrl) return v.t.share.pageNotFound;
  const correlation = err.details.correlation_id;
  const id = typeof correlation === "string" ? ` (${correlation.slice(0, 8)})` : "";
  return `${errorText(v, err.code, err.message)}${id}`;
}

/** The HTML of an error page (the page macro sends it with its own status). */
export function errorPageHtml(v: View, err: AppError, unknownUrl = false): JSX.Element {
  const title = err.status === 404 ? v.t.errors.notFoundTitle : v.t.errors.title;
  return <ErrorPage v={v} title={title} message={pageText(v, err, unknownUrl)} status={err.status} />;
}

/** An error as a whole HTML page with its status. */
export function errorPage(v: View, err: AppError, unknownUrl = false): Promise<Response> {
  return render(errorPageHtml(v, err, unknownUrl), { status: err.status, headers: err.headers });
}
