/**
 * The billed answers (what the statistics' cost counts) keep the closed hours' counts per process:
 * on random log rows over ten days and random ranges — starting and ending mid-hour, reaching into
 * the open hours — they equal a plain count over `processing_log`, the first time and from the
 * cache, and rows written in the open hours afterwards are counted at once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { billedAnswers, billedAnswersBySlot } from "../src/store/job-stats";
import { freshDatabase } from "./helpers/app";

const HOUR = 3_600_000;
const now = new Date();
const SLOTS = ["slot-001", "slot-002", "slot-003"];
let sql: postgres.Sql;

let seed = 20261206;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** `n` jobs, each with one log row at `at()`: billed ones and others. */
async function addLogRows(n: number, at: () => number) {
  const rows = Array.from({ length: n }, () => ({
    id: randomUUID(),
    slot: pick(SLOTS),
    provider: pick(["gemini", "openai", "local"]),
    event: pick(["provider_responded", "late_result_discarded", "received", "succeeded"]),
    // a fallback's answer names its provider in the row
    named: rand() < 0.2 ? "turbotext" : null,
    at: new Date(at()).toISOString(),
  }));
  await sql`
    insert into job (id, slot_id, source, status, provider, operation, settings, output_format, created_at, expires_at)
    select x.id::uuid, x.slot, 'ingest', 'succeeded', x.provider, 'op', '{}', 'jpeg', x.at::timestamptz,
           x.at::timestamptz + interval '1 minute'
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(id text, slot text, provider text, at text)`;
  await sql`
    insert into processing_log (job_id, slot_id, event, occurred_at, details)
    select x.id::uuid, x.slot, x.event, x.at::timestamptz,
           case when x.named is null then '{}'::jsonb else jsonb_build_object('provider', x.named) end
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(id text, slot text, event text, named text, at text)`;
}

async function plain(from: Date, to: Date) {
  const rows = await sql<{ slot: string; provider: string; n: number }[]>`
    select l.slot_id as slot, coalesce(l.details->>'provider', j.provider) as provider, count(*)::int as n
    from processing_log l join job j on j.id = l.job_id
    where l.event in ('provider_responded', 'late_result_discarded')
      and l.occurred_at >= ${from} and l.occurred_at < ${to}
    group by 1, 2`;
  const bySlot: Record<string, Record<string, number>> = {};
  for (const r of rows) bySlot[r.slot] = { ...bySlot[r.slot], [r.provider]: r.n };
  return bySlot;
}

function sum(bySlot: Record<string, Record<string, number>>, slot: string | null) {
  const out: Record<string, number> = {};
  for (const [s, providers] of Object.entries(bySlot)) {
    if (slot && s !== slot) continue;
    for (const [p, n] of Object.entries(providers)) out[p] = (out[p] ?? 0) + n;
  }
  return out;
}

async function compare(from: Date, to: Date) {
  const expected = await plain(from, to);
  expect(await billedAnswersBySlot(sql, { from, to }, now)).toEqual(expected);
  const slot = rand() < 0.5 ? pick(SLOTS) : null;
  expect(await billedAnswers(sql, { from, to, slotId: slot }, now)).toEqual(sum(expected, slot));
}

beforeAll(async () => {
  sql = postgres(await freshDatabase(), { max: 2, onnotice: () => {} });
  await addLogRows(3000, () => now.getTime() - rand() * 10 * 24 * HOUR);
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

test("closed hours from the cache, the edges and open hours from the log: the plain count's numbers", async () => {
  for (let round = 0; round < 2; round++) {
    // the same ranges twice: the second time the closed hours come from the cache
    seed = 7;
    for (let i = 0; i < 25; i++) {
      const a = now.getTime() - rand() * 10 * 24 * HOUR;
      const b = a + rand() * (now.getTime() + HOUR - a);
      await compare(new Date(a), new Date(b));
    }
    await compare(new Date(now.getTime() - 11 * 24 * HOUR), now);
    await compare(new Date(now.getTime() - 3 * HOUR - 1234), now);
  }
  // Rows of the open hours written since are counted at once.
  await addLogRows(200, () => now.getTime() - rand() * 1.5 * HOUR);
  await compare(new Date(now.getTime() - 10 * 24 * HOUR), now);
});
