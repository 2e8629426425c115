/**
 * The statistics, dashboard and recent-results queries stay on indexes at 1,000,000 jobs. The
 * queries under test are the service's own (captured through postgres.js's debug hook) and their
 * plans are checked — not their times, and not which of the job indexes the planner prefers (that
 * follows the statistics and the machine's load): no sequential scan reads the job table, an index
 * of it is used, and the few-row probes are estimated at a small fraction of one pass over it. The rows are seeded with generate_series into a fresh
 * database; the indexes are dropped during the load and rebuilt after it, as a bulk load would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { bucketEdges } from "../src/domain/calendar";
import {
  aggregateJobs,
  failureReasons,
  lastOutcomes,
  recentFailures,
  windowCounts,
} from "../src/store/job-stats";
import { seedBulkJobHistory } from "../src/store/seed";
import { freshDatabase } from "./helpers/app";

const JOBS = 1_000_000;
let sql: postgres.Sql;
let captured: { query: string; params: unknown[] }[] = [];
let now: Date;
/** The planner's estimate for reading the whole job table once (a sequential scan). */
let fullScanCost: number;

beforeAll(async () => {
  const url = await freshDatabase();
  sql = postgres(url, {
    max: 2,
    onnotice: () => {},
    debug: (_conn, query, params) => {
      captured.push({ query, params: params as unknown[] });
    },
  });
  await seedBulkJobHistory({ sql }, JOBS);
  await sql.unsafe("vacuum analyze job");
  const [row] = await sql<{ now: Date }[]>`select now() as now`;
  now = row!.now;
  const [scan] = await sql.unsafe("explain (format json) select * from job");
  fullScanCost = (scan!["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan["Total Cost"];
});

afterAll(() => sql.end());

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Total Cost": number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The plans of the statements `run` sends, with their parameters. */
async function plansOf(run: () => Promise<unknown>): Promise<PlanNode[][]> {
  captured = [];
  await run();
  const statements = captured.filter((c) => /\bfrom job\b/.test(c.query));
  captured = [];
  expect(statements.length).toBeGreaterThan(0);
  const plans: PlanNode[][] = [];
  for (const s of statements) {
    const [row] = await sql.unsafe(`explain (format json) ${s.query}`, s.params as never[]);
    plans.push(nodes((row!["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan));
  }
  return plans;
}

/**
 * Asserts that no sequential scan reads `job` and that an index of it does; with `share`, also that
 * the whole plan is estimated below that share of one sequential pass over the table (for the
 * queries that should take a few index reads, whatever the history).
 */
function onIndexes(plan: PlanNode[], share?: number): void {
  const seq = plan.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "job");
  expect(seq).toEqual([]);
  expect(plan.some((n) => n["Index Name"]?.startsWith("job_"))).toBe(true);
  if (share !== undefined) expect(plan[0]!["Total Cost"]).toBeLessThan(fullScanCost * share);
}

describe(`${JOBS.toLocaleString("en")} jobs`, () => {
  test("the seed is there", async () => {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from job`;
    expect(row!.n).toBe(JOBS);
  });

  test("global statistics (90 days by day, also by slot and by provider) stay on indexes", async () => {
    const from = new Date(now.getTime() - 90 * 86_400_000);
    for (const filter of [{}, { slotId: "slot-007" }, { provider: "gemini" }]) {
      const f = { from, to: now, ...filter };
      const [buckets, summary, reasons] = await plansOf(async () => {
        await aggregateJobs(sql, f, { grain: "day", tz: "Europe/Moscow" });
        await aggregateJobs(sql, f, null);
        await failureReasons(sql, f);
      });
      // ~123,000 ingests in range, out of 1,000,000.
      onIndexes(buckets!);
      onIndexes(summary!);
      onIndexes(reasons!);
    }
  });

  test("slot statistics (31 days by hour, and a summary since a reset a year ago) stay on indexes", async () => {
    const from = new Date(now.getTime() - 31 * 86_400_000);
    expect(bucketEdges(from, now, "hour", "UTC").length).toBeGreaterThanOrEqual(744);
    const [hours, sinceReset] = await plansOf(async () => {
      await aggregateJobs(sql, { from, to: now, slotId: "slot-003" }, { grain: "hour", tz: "UTC" });
      const yearAgo = new Date(now.getTime() - 365 * 86_400_000);
      await aggregateJobs(sql, { from: yearAgo, to: now, slotId: "slot-003" }, null);
    });
    onIndexes(hours!);
    onIndexes(sinceReset!);
  });

  test("the dashboard overview: window counts, last success/error per slot, recent failures", async () => {
    const since = new Date(now.getTime() - 4320 * 60_000);
    const plans = await plansOf(async () => {
      await windowCounts(sql, since);
      await recentFailures(sql, since, 20);
      const slotIds = Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, "0")}`);
      const lines = await lastOutcomes(sql, slotIds);
      expect(lines.every((l) => l.last_success_at && l.last_error_at)).toBe(true);
    });
    expect(plans.length).toBe(3);
    const [window, failures, lines] = plans;
    onIndexes(window!);
    // The last 20 failures and one probe per slot for its last success and last failure: a few
    // index reads each, whatever the slots' history.
    onIndexes(failures!, 0.05);
    onIndexes(lines!, 0.05);
  });

  test("a slot's recent results (slot page and gallery) stay on an index", async () => {
    const plans = await plansOf(
      () => sql`
      select id, finalized_at, result_path, thumb_path from job
      where slot_id = ${"slot-005"} and status = 'succeeded' and result_path is not null
      order by finalized_at desc limit 10`,
    );
    expect(plans.length).toBe(1);
    onIndexes(plans[0]!, 0.05);
  });
});
