/** The per-field messages of a 422, for the forms that show them next to each input. */
import type { FieldErrors } from "../../../templates/forms";
import { AppError } from "../../lib/errors";

/** `details.fields` of a 422 as a map field → message (`settings.prompt` → "…"). */
export function fieldErrorsOf(err: unknown): FieldErrors | null {
  if (!(err instanceof AppError) || err.code !== "validation_failed") return null;
  const out: FieldErrors = {};
  const fields = (err.details.fields ?? []) as { field: string; message: string }[];
  for (const f of fields) out[f.field] ??= f.message;
  return out;
}
