/** @jsxImportSource @kitajs/html */
/** Service errors as readable HTML (localized by code), for htmx fragments and whole pages. */
import { randomUUID } from "node:crypto";
import { ErrorAlert } from "../../../templates/components";
import type { FieldErrors } from "../../../templates/forms";
import { ErrorPage } from "../../../templates/pages/error";
import { errorText, type View } from "../../../templates/view";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import { render } from "./render";

/** An AppError as an alert fragment with its status; anything else goes to the central handler. */
export function errorFragment(v: View, err: unknown): Promise<Response> {
  if (!(err instanceof AppError)) throw err;
  return render(<ErrorAlert v={v} code={err.code} message={err.message} />, { status: err.status });
}

/** `details.fields` of a 422 as a map field → message (`settings.prompt` → "…"). */
export function fieldErrorsOf(err: unknown): FieldErrors | null {
  if (!(err instanceof AppError) || err.code !== "validation_failed") return null;
  const out: FieldErrors = {};
  const fields = (err.details.fields ?? []) as { field: string; message: string }[];
  for (const f of fields) out[f.field] ??= f.message;
  return out;
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
