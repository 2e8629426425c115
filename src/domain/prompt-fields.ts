/**
 * `{field}` placeholders in a slot's prompt (SPEC §11): the guest's answers the booth sends as form
 * fields, or tokens in the booth URL's query string, go into the prompt, so one slot can serve
 * several looks. Filled by the worker just before the provider gets the settings — the job keeps
 * the prompt as written, and the booth's fields in its metadata.
 *
 * A value is the booth's (or a guest's) text, so it is cleaned before it reaches a provider:
 * control characters (line breaks included, so a value cannot start a new instruction line) are
 * stripped, surrounding spaces trimmed, and at most FIELD_VALUE_MAX characters kept. A placeholder
 * naming a field the booth did not send becomes empty. Only `{name}` with a field-like name is a
 * placeholder (letters, digits, `_`, `-`, `.`); other braces stay as written.
 */

/** Characters a filled value keeps at most (Unicode code points, never half a character). */
export const FIELD_VALUE_MAX = 200;

/** The settings a booth's fields are filled into (where a provider has them). */
export const PROMPT_SETTINGS = ["prompt", "negative_prompt"] as const;

const PLACEHOLDER = /\{([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\}/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A booth field's value as it may go into a prompt: no control characters, trimmed, bounded. */
export function cleanFieldValue(value: string): string {
  const clean = value.replace(CONTROL, "").trim();
  const chars = Array.from(clean);
  return chars.length > FIELD_VALUE_MAX ? chars.slice(0, FIELD_VALUE_MAX).join("").trimEnd() : clean;
}

/** The field names a prompt's placeholders ask for, in order of first appearance. */
export function promptPlaceholders(prompt: string): string[] {
  const names: string[] = [];
  for (const m of prompt.matchAll(PLACEHOLDER)) if (!names.includes(m[1]!)) names.push(m[1]!);
  return names;
}

/** The prompt with each `{field}` replaced by the field's cleaned value (empty when not sent). */
export function fillPrompt(prompt: string, fields: Readonly<Record<string, string>>): string {
  return prompt.replace(PLACEHOLDER, (_, name: string) =>
    Object.hasOwn(fields, name) && typeof fields[name] === "string" ? cleanFieldValue(fields[name]) : "",
  );
}

/**
 * The settings a provider gets: the prompt settings (PROMPT_SETTINGS) filled from the booth's
 * fields, everything else as it was. A copy; the job's snapshot is not changed.
 */
export function fillPromptSettings(
  settings: Readonly<Record<string, unknown>>,
  fields: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings };
  for (const key of PROMPT_SETTINGS) {
    const value = out[key];
    if (typeof value === "string") out[key] = fillPrompt(value, fields);
  }
  return out;
}
