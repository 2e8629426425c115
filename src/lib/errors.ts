/**
 * The one error type. Anything thrown as an AppError becomes the JSON envelope
 * `{"error": {"code", "message", "details"}}` with its status; anything else becomes a 500
 * `internal_error` carrying a correlation id, with the internals only in the log.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export interface ErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function envelope(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): ErrorEnvelope {
  return { error: { code, message, details } };
}

export function errorResponse(err: AppError, extraHeaders: Record<string, string> = {}): Response {
  return Response.json(envelope(err.code, err.message, err.details), {
    status: err.status,
    headers: { "Cache-Control": "no-store", ...err.headers, ...extraHeaders },
  });
}
