/** Per-field validation messages keyed by API field name (`name`, `settings.prompt`, …). */
export type FieldErrors = Record<string, string>;
