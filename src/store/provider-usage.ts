/**
 * The provider request counters (table provider_usage): one row per provider and quota day,
 * incremented by a single atomic upsert, so requests made by any instance add up in one place.
 */
import type { Sql } from "../db/client";

export interface UsageRow {
  provider: string;
  day: string;
  requests: number;
  exhaustedAt: Date | null;
  exhaustedMessage: string | null;
}

function toRow(r: Record<string, unknown>): UsageRow {
  return {
    provider: String(r.provider),
    day: String(r.day),
    requests: Number(r.requests),
    exhaustedAt: (r.exhausted_at as Date | null) ?? null,
    exhaustedMessage: (r.exhausted_message as string | null) ?? null,
  };
}

/** Counts one request; returns the day's total including it. */
export async function countProviderRequest(
  sql: Sql,
  provider: string,
  day: string,
  now: Date,
): Promise<number> {
  const [row] = await sql<{ requests: number }[]>`
    insert into provider_usage (provider, day, requests, updated_at)
    values (${provider}, ${day}, 1, ${now})
    on conflict (provider, day) do update
      set requests = provider_usage.requests + 1, updated_at = excluded.updated_at
    returning requests`;
  return row?.requests ?? 1;
}

/** Records that the provider itself said its quota is used up for this quota day (first word kept). */
export async function markProviderExhausted(
  sql: Sql,
  provider: string,
  day: string,
  now: Date,
  message: string,
): Promise<void> {
  await sql`
    insert into provider_usage (provider, day, requests, exhausted_at, exhausted_message, updated_at)
    values (${provider}, ${day}, 0, ${now}, ${message}, ${now})
    on conflict (provider, day) do update
      set exhausted_at = coalesce(provider_usage.exhausted_at, excluded.exhausted_at),
          exhausted_message = coalesce(provider_usage.exhausted_message, excluded.exhausted_message),
          updated_at = excluded.updated_at`;
}

/**
 * Forgets that the provider said its quota is used up for this quota day (it answered since, or an
 * operator resumed it). One conditional statement: true only for the caller that cleared the flag.
 */
export async function clearProviderExhausted(
  sql: Sql,
  provider: string,
  day: string,
  now: Date,
): Promise<boolean> {
  const rows = await sql`
    update provider_usage set exhausted_at = null, exhausted_message = null, updated_at = ${now}
    where provider = ${provider} and day = ${day} and exhausted_at is not null
    returning 1`;
  return rows.length > 0;
}

/** The rows for the given (provider, day) pairs; missing pairs have no requests yet. */
export async function providerUsage(
  sql: Sql,
  keys: { provider: string; day: string }[],
): Promise<UsageRow[]> {
  if (!keys.length) return [];
  const rows = await sql`
    select provider, day, requests, exhausted_at, exhausted_message from provider_usage
    where (provider, day) in (
      select * from unnest(${keys.map((k) => k.provider)}::text[], ${keys.map((k) => k.day)}::text[])
    )`;
  return rows.map(toRow);
}

/** The functions above, bound to the client, as `store.providerUsage`. */
export class ProviderUsageStore {
  constructor(private readonly sql: Sql) {}

  countRequest(provider: string, day: string, now: Date) {
    return countProviderRequest(this.sql, provider, day, now);
  }
  markExhausted(provider: string, day: string, now: Date, message: string) {
    return markProviderExhausted(this.sql, provider, day, now, message);
  }
  clearExhausted(provider: string, day: string, now: Date) {
    return clearProviderExhausted(this.sql, provider, day, now);
  }
  usage(keys: { provider: string; day: string }[]) {
    return providerUsage(this.sql, keys);
  }
}
