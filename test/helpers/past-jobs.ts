/**
 * Job rows in the past for statistics tests, written by the store's seeding function (the queue
 * only ever creates jobs "now", one at a time; stats need 1500 finished jobs over 45 days), and a
 * deterministic random source so a failing case can be replayed.
 */
import { randomUUID } from "node:crypto";
import type { FailureReason, JobStatus, NewJobRow } from "../../src/db/schema";
import { seedJobHistory } from "../../src/store/seed";
import type { TestApp } from "./app";

export interface PastJob {
  slotId?: string;
  source?: "ingest" | "test_run";
  status: JobStatus;
  failureReason?: FailureReason | null;
  provider?: string;
  createdAt: Date;
  /** ms from creation to finalization (final statuses only). */
  totalMs?: number;
  providerLatencyMs?: number | null;
  errorMessage?: string | null;
  expiresAt?: Date;
  /** When a succeeded job's result is due for removal (default: not set). */
  resultExpiresAt?: Date;
}

export function pastJobRow(p: PastJob): NewJobRow {
  const final = !["pending", "processing"].includes(p.status);
  const finalizedAt = final ? new Date(p.createdAt.getTime() + (p.totalMs ?? 1000)) : null;
  const id = randomUUID();
  return {
    id,
    slotId: p.slotId ?? "slot-001",
    source: p.source ?? "ingest",
    status: p.status,
    failureReason: p.failureReason ?? null,
    errorMessage: p.errorMessage ?? null,
    provider: p.provider ?? "local",
    operation: "greyscale",
    settings: {},
    outputFormat: "jpeg",
    createdAt: p.createdAt,
    startedAt: p.status === "pending" ? null : p.createdAt,
    finalizedAt,
    expiresAt: p.expiresAt ?? new Date(p.createdAt.getTime() + 48_000),
    providerLatencyMs: p.providerLatencyMs ?? null,
    resultPath: p.status === "succeeded" ? `results/${id}.jpg` : null,
    resultMime: p.status === "succeeded" ? "image/jpeg" : null,
    ...(p.resultExpiresAt ? { resultExpiresAt: p.resultExpiresAt } : {}),
  };
}

export function seedPastJobs(app: TestApp, jobs: PastJob[]): Promise<NewJobRow[]> {
  return seedJobHistory(app, jobs.map(pastJobRow));
}

export { seededRandom } from "./random";

export async function loginToken(app: TestApp, username: string, password: string): Promise<string> {
  const res = await fetch(`${app.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
