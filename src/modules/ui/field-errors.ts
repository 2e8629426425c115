/** The per-field messages of a 422, for the forms that show them next to each input. */
import type { FieldErrors } from "../../../templates/forms";
import { errorText, type View, validationText } from "../../../templates/view";
import { AppError } from "../../lib/errors";

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

/** An error as one line for a card's alert: each field's label and message, or the error's text. */
export function errorLine(v: View, err: AppError): string {
  const fields = fieldErrorsOf(err, v);
  if (!fields) return errorText(v, err.code, err.message);
  return Object.entries(fields)
    .map(([k, m]) => `${fieldLabel(v, k)}: ${m}`)
    .join("; ");
}
