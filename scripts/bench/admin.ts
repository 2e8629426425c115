/**
 * Row 8 — admin at scale. The admin pages and the statistics API are timed on the server's own
 * database as it is (a few thousand jobs from the other rows), then again after 100,000 past jobs
 * with four log rows each are added — side by side, same server, same client.
 */
import postgres from "postgres";
import type { BenchServer } from "./env";
import { percentile } from "./lib";

export const ADMIN_PAGES = [
  { name: "dashboard /", path: "/" },
  { name: "slot page /slots/slot-001", path: "/slots/slot-001" },
  { name: "jobs page /jobs", path: "/jobs" },
  { name: "stats page /stats", path: "/stats" },
  { name: "stats API /api/stats/global", path: "/api/stats/global?group_by=day" },
] as const;

/** The statistics as the admin reads them: the page and the API's day buckets. */
export const STATS_PAGES = [
  { name: "stats page /stats", path: "/stats" },
  { name: "stats API /api/stats/global", path: "/api/stats/global?group_by=day" },
] as const;

/** Adds `n` finished jobs spread over the last 30 days across the 15 slots, each with its log rows. */
export function seedHistory(url: string, n: number): Promise<void> {
  return seedJobs(url, n, { newestSecondsAgo: 0, spanSeconds: 30 * 86400 });
}

/**
 * Adds `n` booth jobs finished over the last two hours (the hours the rollup has not sealed yet, an
 * evening's live work), each with its log rows.
 */
export function seedLive(url: string, n: number): Promise<void> {
  return seedJobs(url, n, { newestSecondsAgo: 60, spanSeconds: 7000 });
}

/**
 * `n` finished booth jobs across the 15 slots, created evenly from `newestSecondsAgo` back over
 * `spanSeconds`, each with its four log rows (the provider's answer names its provider); results
 * older than their 72 h retention are marked deleted.
 */
async function seedJobs(
  url: string,
  n: number,
  at: { newestSecondsAgo: number; spanSeconds: number },
): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`
        create temporary table seed on commit drop as
        select gen_random_uuid() as id,
               'slot-' || lpad(((g % 15) + 1)::text, 3, '0') as slot_id,
               now() - make_interval(secs => ${at.newestSecondsAgo} + (g::float8 / ${n}) * ${at.spanSeconds}) as created_at,
               case when g % 20 = 0 then 'timeout' when g % 13 = 0 then 'failed' else 'succeeded' end as status,
               (g % 7) * 900 + 1500 as provider_ms
        from generate_series(1, ${n}) g`;
      await tx`
        insert into job (id, slot_id, source, status, failure_reason, provider, operation, settings,
                         output_format, created_at, started_at, finalized_at, expires_at, attempts,
                         provider_latency_ms, result_path, result_mime, result_expires_at, result_deleted_at)
        select id, slot_id, 'ingest', status,
               case status when 'timeout' then 'timeout' when 'failed' then 'provider_error' end,
               'gemini', 'image_edit', '{}', 'jpeg', created_at, created_at + interval '20 ms',
               created_at + make_interval(secs => provider_ms / 1000.0 + 0.05), created_at + interval '48 s', 1,
               provider_ms,
               case when status = 'succeeded' then 'results/' || id || '.jpg' end,
               case when status = 'succeeded' then 'image/jpeg' end,
               case when status = 'succeeded' then created_at + interval '72 h' end,
               case when status = 'succeeded' and created_at < now() - interval '72 h' then created_at + interval '72 h' end
        from seed`;
      await tx`
        insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, details)
        select id, slot_id, e.event, created_at + e.offset_ms * interval '1 ms',
               case when e.event = 'provider_responded' then provider_ms end,
               case when e.event = 'provider_responded' then '{"provider":"gemini"}'::jsonb else '{}' end
        from seed cross join (values ('received', 0), ('dispatched', 20), ('provider_responded', 1500),
                                     ('succeeded', 1550)) as e(event, offset_ms)`;
    });
    // A month of jobs has been through autovacuum: visibility map set, statistics current.
    await sql`vacuum analyze job`;
    await sql`vacuum analyze processing_log`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function jobCount(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = (await sql`select count(*)::int as n from job`) as unknown as [{ n: number }];
    return n;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** p95 (ms) of each admin page, `runs` sequential requests after warm-up. */
export async function timePages(
  server: BenchServer,
  runs: number,
  pages: readonly { name: string; path: string }[] = ADMIN_PAGES,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const p of pages) {
    const get = async () => {
      const t0 = performance.now();
      const res = p.path.startsWith("/api/") ? await server.api("GET", p.path) : await server.page(p.path);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${p.path} answered ${res.status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await get();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await get());
    out[p.name] = times;
  }
  return out;
}

export function worstP95(pages: Record<string, number[]>): number {
  return Math.max(...Object.values(pages).map((v) => percentile(v, 95)));
}
