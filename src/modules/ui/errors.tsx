/** @jsxImportSource @kitajs/html */
/** Service errors as readable HTML (localized by code), for htmx fragments and whole pages. */
import { randomUUID } from "node:crypto";
import { ErrorAlert } from "../../../templates/components";
import type { FieldErrors } from "../../../templates/forms";
import { DEFAULT_LANG, dict, isLang, LANG_COOKIE, type Lang } from "../../../templates/i18n/index";
import { ErrorPage } from "../../../templates/pages/error";
import { errorText, type View, validationText } from "../../../templates/view";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import { render } from "./render";

/** Paths whose clients are programs (booths, scripts, Prometheus): they always get JSON. */
const MACHINE_PATHS = /^\/(api|ingest|public|metrics|healthz|readyz)(\/|$)/;

/** A page load from a browser (not htmx, not an API client): errors become an HTML page. */
export function wantsHtml(request: Request): boolean {
  const path = new URL(request.url).pathname;
  if (MACHINE_PATHS.test(path) || request.headers.get("hx-request") === "true") return false;
  return (request.headers.get("accept") ?? "").includes("text/html");
}

function langOf(request: Request): Lang {
  const asked = new URL(request.url).searchParams.get("lang");
  if (isLang(asked)) return asked;
  const cookie = request.headers.get("cookie") ?? "";
  const m = cookie.match(new RegExp(`(?:^|;\\s*)${LANG_COOKIE}=([a-z]+)`));
  return m && isLang(m[1]) ? m[1] : DEFAULT_LANG;
}

/**
 * The HTML page for an error a browser navigated into (unknown URL, refused request), or null when
 * the client should get the JSON envelope. Used by the central error handler.
 */
export async function browserErrorPage(
  request: Request,
  status: number,
  code: string,
  message?: string,
): Promise<Response | null> {
  if (!wantsHtml(request)) return null;
  const lang = langOf(request);
  const url = new URL(request.url);
  const v: View = { t: dict(lang), lang, path: `${url.pathname}${url.search}`, user: null, now: new Date() };
  const notFound = status === 404;
  const title = notFound ? v.t.errors.notFoundTitle : v.t.errors.title;
  const text = notFound && code === "not_found" ? v.t.share.pageNotFound : errorText(v, code, message);
  return render(<ErrorPage v={v} title={title} message={text} status={status} />, { status });
}

/** An AppError as an alert fragment with its status; anything else goes to the central handler. */
export function errorFragment(v: View, err: unknown): Promise<Response> {
  if (!(err instanceof AppError)) throw err;
  return render(<ErrorAlert v={v} code={err.code} message={err.message} />, { status: err.status });
}

/** `details.fields` of a 422 as a map field → localized message (`settings.prompt` → "…"). */
export function fieldErrorsOf(err: unknown, v: View): FieldErrors | null {
  if (!(err instanceof AppError) || err.code !== "validation_failed") return null;
  const out: FieldErrors = {};
  const fields = (err.details.fields ?? []) as { field: string; message: string }[];
  for (const f of fields) out[f.field] ??= validationText(v, f.message);
  return out;
}

/** A field's name as the form labels it (`settings.strength` → "Сила изменения"). */
export function fieldLabel(v: View, field: string): string {
  const key = field.replace(/^(overrides\.)?settings\./, "");
  if (key === "prompt") return v.t.slot.prompt;
  if (field === "name") return v.t.slot.name;
  if (field === "size_limit_mb") return v.t.slot.sizeLimit;
  if (field === "output_format") return v.t.slot.outputFormat;
  return v.t.fields[key]?.title ?? field;
}

/**
 * Runs a full-page handler so that anything unexpected still ends as a readable HTML page (with a
 * correlation id that is in the log), never the JSON envelope.
 */
export async function asPage(
  rt: Services,
  v: View,
  request: Request,
  handler: () => Promise<Response>,
): Promise<Response> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      return render(<ErrorPage v={v} message={errorText(v, err.code, err.message)} />, {
        status: err.status,
      });
    }
    const correlationId = randomUUID();
    rt.log.error("http.internal_error", {
      correlation_id: correlationId,
      method: request.method,
      path: new URL(request.url).pathname,
      error: err,
      stack: err instanceof Error ? err.stack?.split("\n").slice(0, 6).join(" | ") : undefined,
    });
    const status = err instanceof AppError ? err.status : 500;
    const text =
      err instanceof AppError ? errorText(v, err.code, err.message) : v.t.errors.codes.internal_error!;
    return render(<ErrorPage v={v} message={`${text} (${correlationId.slice(0, 8)})`} />, { status });
  }
}
