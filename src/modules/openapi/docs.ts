/**
 * Helpers for route `detail` (OpenAPI operation objects). Admin bodies are read and validated by
 * the services (see lib/validation.ts), so their schemas are attached here for the document.
 */
import { type TSchema, Type } from "@sinclair/typebox";
import type { DocumentDecoration } from "elysia";

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "snake_case error code" }),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  { title: "ErrorEnvelope" },
);

const ERROR_TEXT: Record<number, string> = {
  400: "invalid_payload / invalid_request",
  401: "unauthorized (no or expired session) / invalid_credentials",
  403: "forbidden (missing scope) / csrf_refused (cookie request from another site)",
  404: "not found",
  409: "conflict (version_conflict, template_in_use, job_not_active)",
  410: "expired",
  413: "payload_too_large",
  415: "unsupported_media_type (checked by magic bytes)",
  422: "validation_failed with details.fields [{field, message}] (or provider_blocked)",
  429: "throttled (Retry-After)",
  500: "internal_error with details.correlation_id",
  502: "provider_error",
  503: "service_unavailable / job_cancelled",
  504: "sync_timeout",
  507: "insufficient_storage",
};

type Responses = Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;

/** The error statuses an operation documents: those named, and 401/403 when it needs a scope. */
function errorStatuses(input: { scope?: string; errors?: number[] }): number[] {
  const errors = new Set(input.errors ?? []);
  if (input.scope) {
    errors.add(401);
    errors.add(403);
  }
  return [...errors].sort();
}

/**
 * The `response` option of a route whose success body Elysia validates: the document takes a
 * route's responses from that option alone (its `detail` responses are dropped), so the error
 * statuses — the same ones `op()` would list — are added here with the envelope. The error handler
 * answers errors as a ready Response, which Elysia does not validate against these.
 */
export function withErrors<Ok extends Record<number, TSchema>>(
  ok: Ok,
  input: { scope?: string; errors?: number[] },
) {
  const errors: Record<number, TSchema> = {};
  for (const status of errorStatuses(input)) {
    errors[status] = Type.Object(ErrorEnvelope.properties, {
      title: "ErrorEnvelope",
      description: ERROR_TEXT[status] ?? "error",
    });
  }
  return { ...errors, ...ok };
}

/** An operation object: tags, summary, security, the success response and the error statuses. */
export function op(input: {
  tag: string;
  summary: string;
  description?: string;
  scope?: string;
  ok?: { status?: number; schema?: TSchema; description?: string; contentType?: string };
  errors?: number[];
  body?: { schema: TSchema; contentType?: string; required?: boolean };
  parameters?: unknown[];
}): DocumentDecoration {
  const responses: Responses = {};
  const ok = input.ok ?? {};
  responses[String(ok.status ?? 200)] = {
    description: ok.description ?? "OK",
    ...(ok.schema ? { content: { [ok.contentType ?? "application/json"]: { schema: ok.schema } } } : {}),
  };
  for (const status of errorStatuses(input)) {
    responses[String(status)] = {
      description: ERROR_TEXT[status] ?? "error",
      content: { "application/json": { schema: ErrorEnvelope } },
    };
  }
  return {
    tags: [input.tag],
    summary: input.summary,
    description: input.scope
      ? `${input.description ? `${input.description}\n\n` : ""}Requires the \`${input.scope}\` scope.`
      : input.description,
    ...(input.scope ? { security: [{ bearer: [] }, { cookie: [] }] } : { security: [] }),
    ...(input.body
      ? {
          requestBody: {
            required: input.body.required ?? true,
            content: { [input.body.contentType ?? "application/json"]: { schema: input.body.schema } },
          },
        }
      : {}),
    ...(input.parameters ? { parameters: input.parameters } : {}),
    responses,
  } as DocumentDecoration;
}

/** A multipart body schema with a binary file part and optional text parts. */
export function multipart(file: string, fields: Record<string, TSchema> = {}, fileDescription = "") {
  return Type.Object({
    [file]: Type.String({ format: "binary", description: fileDescription }),
    ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])),
  });
}
