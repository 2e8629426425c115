/** Service errors as readable HTML (localized by code), for htmx fragments and whole pages. */
import { ErrorAlert } from "../../../templates/components";
import type { FieldErrors } from "../../../templates/forms";
import type { View } from "../../../templates/view";
import { AppError } from "../../lib/errors";
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
