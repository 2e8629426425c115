/**
 * Row 3 — held connections. N booths post at once to a slot whose provider answers after L
 * seconds; every request is held open until its result. Side by side: the same N requests straight
 * to the fake provider. The server's RSS is sampled throughout (peak reported).
 */

import { type BenchServer, boothForm, ingest } from "./env";
import { geminiBody } from "./fake-gemini";
import { percentile, rssOf } from "./lib";

export interface HeldRun {
  n: number;
  statuses: Record<string, number>;
  ingest: number[];
  direct: number[];
  peakRss: number;
  idleRss: number;
}

export async function measureHeld(
  server: BenchServer,
  fakeUrl: string,
  slotId: string,
  prompt: string,
  photo: Uint8Array,
  n: number,
): Promise<HeldRun> {
  const body = geminiBody(photo, prompt);
  const direct = await Promise.all(
    Array.from({ length: n }, async () => {
      const t0 = performance.now();
      const res = await fetch(`${fakeUrl}/v1beta/models/gemini-2.5-flash-image:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-goog-api-key": "bench-gemini-key" },
        body,
      });
      await res.json();
      return performance.now() - t0;
    }),
  );
  const idleRss = await rssOf(server.pid);
  let peakRss = idleRss;
  const sampler = setInterval(async () => {
    const rss = await rssOf(server.pid);
    if (rss > peakRss) peakRss = rss;
  }, 200);
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const r = await ingest(server, slotId, photo);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) times.push(r.ms);
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  return { n, statuses, ingest: times, direct, peakRss, idleRss };
}

export function heldAddedP99(run: HeldRun): number {
  return percentile(run.ingest, 99) - percentile(run.direct, 99);
}

export interface BurstRun {
  statuses: Record<string, number>;
  /** Answered jobs, for the per-phase breakdown. */
  jobs: { id: string; startedAt: number; receivedAt: number }[];
  ingest: number[];
  bare: number[];
  idleRss: number;
  peakRss: number;
  bareIdleRss: number;
  barePeakRss: number;
}

/** Peak RSS of `pid` while `work` runs (sampled every 100 ms), and its RSS before. */
async function peakWhile<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ idle: number; peak: number; value: T }> {
  const idle = await rssOf(pid);
  let peak = idle;
  const sampler = setInterval(async () => {
    const rss = await rssOf(pid);
    if (rss > peak) peak = rss;
  }, 100);
  try {
    const value = await work();
    return { idle, peak: Math.max(peak, await rssOf(pid)), value };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Row 11 — `n` booths at once held by the server (a `local` slot with a simulated delay) and, side
 * by side, by the bare hold-and-echo server holding each upload as long: statuses, round trips and
 * each process's peak RSS.
 */
export async function measureBurst(
  server: BenchServer,
  bare: { url: string; pid: number },
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<BurstRun> {
  const b = await peakWhile(bare.pid, () =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = performance.now();
        const res = await fetch(bare.url, { method: "POST", body: boothForm(photo) });
        await res.arrayBuffer();
        return performance.now() - t0;
      }),
    ),
  );
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  const jobs: BurstRun["jobs"] = [];
  const s = await peakWhile(server.pid, () =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const r = await ingest(server, slotId, photo);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) times.push(r.ms);
        if (r.jobId) jobs.push({ id: r.jobId, startedAt: r.startedAt, receivedAt: r.receivedAt });
      }),
    ),
  );
  return {
    statuses,
    jobs,
    ingest: times,
    bare: b.value,
    idleRss: s.idle,
    peakRss: s.peak,
    bareIdleRss: b.idle,
    barePeakRss: b.peak,
  };
}
