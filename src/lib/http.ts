/** Small HTTP helpers shared by modules. */

/** Reads a request body up to `limit` bytes; returns null as soon as it would exceed the limit. */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Bun.concatArrayBuffers(chunks, total, true);
}

/** Parses a multipart/form-data body already in memory; null when it is not valid multipart. */
export async function parseMultipart(contentType: string | null, body: Uint8Array): Promise<FormData | null> {
  if (!contentType || !/^multipart\/form-data\s*;.*boundary=/i.test(contentType)) return null;
  try {
    return await new Request("http://localhost/", {
      method: "POST",
      headers: { "content-type": contentType },
      body: body as Uint8Array<ArrayBuffer>,
    }).formData();
  } catch {
    return null;
  }
}

/** RFC 6266 inline/attachment disposition with a safe ASCII filename. */
export function contentDisposition(kind: "inline" | "attachment", filename: string): string {
  const safe = filename.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${kind}; filename="${safe}"`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** True for errors that mean "the database cannot be reached right now". */
export function isDatabaseUnavailable(err: unknown): boolean {
  // drizzle wraps driver errors (DrizzleQueryError) with the original as `cause`.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && cause !== err && isDatabaseUnavailable(cause)) return true;
  const code = (err as { code?: string } | null)?.code ?? "";
  return (
    [
      "ECONNREFUSED",
      "ECONNRESET",
      "ETIMEDOUT",
      "EHOSTUNREACH",
      "CONNECT_TIMEOUT",
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
      "CONNECTION_DESTROYED",
    ].includes(code) ||
    code === "57014" || // statement_timeout: the database did not finish in time
    code === "55P03" || // lock_not_available
    code.startsWith("08") || // connection exceptions
    code === "57P01" || // admin shutdown
    code === "57P03" || // cannot connect now
    code === "53300" // too many connections
  );
}

/**
 * The call failed because its connection closed under it (dropped by the watchdog, reset, or the
 * backend terminated), not because the database refused it: worth one more try on a fresh one.
 */
export function isConnectionLost(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | null, i = 0; e && i < 3; i++) {
    if (["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "ECONNRESET", "57P01"].includes(e.code ?? ""))
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Tries on a fresh connection after a lost one, at most this many times in all. */
const LOST_CONNECTION_TRIES = 3;

/**
 * Runs a database call again when its connection was lost under it (see isConnectionLost). After
 * a network blip the pool may hold several such connections whose close has not landed yet: a
 * short pause lets it see them, so the next try gets a fresh one. `again` decides, from the error,
 * whether another try is safe (default: always — for reads and idempotent writes).
 */
export async function retryOnLostConnection<T>(
  fn: (attempt: number) => Promise<T>,
  again: () => Promise<T | undefined> = async () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= LOST_CONNECTION_TRIES || !isConnectionLost(err)) throw err;
      await Bun.sleep(10 * attempt);
      const settled = await again();
      if (settled !== undefined) return settled;
    }
  }
}
