/**
 * Admin request bodies: read after authentication (routes use `parse: "none"`, so an anonymous
 * client never gets its body parsed), checked against a TypeBox schema, and refused as
 * 422 `validation_failed` with one `{field, message}` per bad field — the shape the UI shows
 * next to each input. Elysia's own body validation runs before the auth macro and coerces
 * strings into numbers, so the admin modules do it here instead.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { AppError } from "./errors";
import { readBodyWithin } from "./http";

export interface FieldError {
  field: string;
  message: string;
}

/** JSON admin bodies are small; anything larger is a mistake or an attack. */
export const JSON_BODY_LIMIT = 256 * 1024;

export function validationFailed(fields: FieldError[], message = "Some fields are not valid"): AppError {
  return new AppError("validation_failed", message, { fields });
}

/**
 * `/settings/prompt` → `settings.prompt`. `root` names the value itself: "body" (the default) is
 * left out of nested names; anything else prefixes them (`overrides.settings.prompt`).
 */
export function fieldName(path: string, root = "body"): string {
  const name = path.replace(/^\//, "").replaceAll("/", ".");
  if (!name) return root;
  return root === "body" ? name : `${root}.${name}`;
}

/**
 * Every error of `value` against `schema`, one per field (the first message wins). A schema may
 * carry `errorMessage` to replace TypeBox's wording (e.g. for unions: "Expected union value").
 */
export function fieldErrors(schema: TSchema, value: unknown, root = "body"): FieldError[] {
  const out: FieldError[] = [];
  for (const e of Value.Errors(schema, value)) {
    const field = fieldName(e.path, root);
    if (out.some((x) => x.field === field)) continue;
    const custom = (e.schema as { errorMessage?: unknown }).errorMessage;
    out.push({ field, message: typeof custom === "string" ? custom : e.message });
  }
  return out;
}

/** The value typed by `schema`, or a 422 naming every bad field. */
export function validate<S extends TSchema>(schema: S, value: unknown): Static<S> {
  const errors = fieldErrors(schema, value);
  if (errors.length) throw validationFailed(errors);
  return value as Static<S>;
}

/** Reads and parses a JSON body (≤ `limit` bytes): 413 when larger, 400 when not JSON. */
export async function readJson(request: Request, limit = JSON_BODY_LIMIT): Promise<unknown> {
  const declared = request.headers.get("content-length");
  const tooLarge = () =>
    new AppError("payload_too_large", `The request body is larger than ${limit} bytes`, {
      max_bytes: limit,
    });
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  const bytes = await readBodyWithin(request, limit);
  if (bytes === null) throw tooLarge();
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_payload", "The request body is not valid JSON");
  }
}
