/** The product's clock rules: when a job's deadline falls, how long a result is kept, how long a request is held. */

/** `expires_at = created_at + T_sync_response`. */
export function jobExpiresAt(createdAt: Date, syncResponseSeconds: number): Date {
  return new Date(createdAt.getTime() + syncResponseSeconds * 1000);
}

/** `result_expires_at = finalized_at + T_result_retention`. */
export function resultExpiresAt(finalizedAt: Date, retentionHours: number): Date {
  return new Date(finalizedAt.getTime() + retentionHours * 3_600_000);
}

/**
 * Seconds beyond T_sync that a held request's connection is kept open (booth ingest and test run),
 * so the answer at the deadline — a 504 at worst — still reaches the client.
 */
export const HOLD_MARGIN_S = 15;

/** The idle timeout for a request held until the deadline. */
export function holdSeconds(syncResponseSeconds: number): number {
  return syncResponseSeconds + HOLD_MARGIN_S;
}
