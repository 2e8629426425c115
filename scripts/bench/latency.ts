/**
 * Row 1 — added latency. The same 1 MB booth JPEG goes straight to the fake Gemini (2 s latency)
 * and through `POST /ingest`, interleaved on parallel lanes, so both see the same machine at the
 * same moment; added = quantile(ingest) − quantile(direct). Each job's own timestamps (database,
 * same wall clock) split the added time into phases — the profile behind a miss.
 */
import postgres from "postgres";
import { type BenchServer, boothForm, ingest } from "./env";
import { geminiBody } from "./fake-gemini";
import { median, percentile } from "./lib";

export interface LatencyRun {
  direct: number[];
  ingest: number[];
  failures: Record<string, number>;
  jobIds: string[];
  /** Per-job phases (ms): upload→row, row→claim, claim→provider call, provider, after provider, finalize→answer. */
  phases: Record<string, number[]>;
}

export async function measureAddedLatency(
  server: BenchServer,
  fakeUrl: string,
  slotId: string,
  prompt: string,
  photo: Uint8Array,
  perKind: number,
  concurrency: number,
): Promise<LatencyRun> {
  const body = geminiBody(photo, prompt);
  const direct = async () => {
    const t0 = performance.now();
    const res = await fetch(`${fakeUrl}/v1beta/models/gemini-2.5-flash-image:generateContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": "bench-gemini-key" },
      body,
    });
    const json = (await res.json()) as {
      candidates: { content: { parts: { inlineData: { data: string } }[] } }[];
    };
    // The booth gets bytes: decode the image as the server does.
    Buffer.from(json.candidates[0]!.content.parts[0]!.inlineData.data, "base64");
    return performance.now() - t0;
  };
  // Warm both paths (JIT, connections, the provider SDK) before measuring: once on every lane, so
  // the connections the lanes will use are open too.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      await direct();
      await ingest(server, slotId, photo);
    }),
  );
  const run: LatencyRun = { direct: [], ingest: [], failures: {}, jobIds: [], phases: {} };
  const starts = new Map<string, number>();
  const answers = new Map<string, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; i < perKind; i += concurrency) {
        // Alternate the order per lane so neither kind always goes first.
        const order = (i + lane) % 2 === 0 ? ["direct", "ingest"] : ["ingest", "direct"];
        for (const kind of order) {
          if (kind === "direct") run.direct.push(await direct());
          else {
            const r = await ingest(server, slotId, photo);
            if (r.status !== 200) run.failures[r.status] = (run.failures[r.status] ?? 0) + 1;
            else {
              run.ingest.push(r.ms);
              run.jobIds.push(r.jobId!);
              starts.set(r.jobId!, r.startedAt);
              answers.set(r.jobId!, r.receivedAt);
            }
          }
        }
      }
    }),
  );
  run.phases = await jobPhases(server.env.DATABASE_URL!, run.jobIds, starts, answers);
  return run;
}

export interface OneAtATimeRun {
  echo: number[];
  ingest: number[];
  failures: Record<string, number>;
  phases: Record<string, number[]>;
}

/**
 * Issue 24's measure of added latency: one booth at a time, a 200 KB photo, a provider that answers
 * at once (local passthrough), against the bare multipart echo — alternating, so both see the same
 * machine. What is left is the server's own cost per booth: parse, checks, storage, queue, answer.
 */
export async function measureOneAtATime(
  server: BenchServer,
  echoUrl: string,
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<OneAtATimeRun> {
  const echo = async () => {
    const t0 = performance.now();
    const res = await fetch(echoUrl, { method: "POST", body: boothForm(photo) });
    await res.arrayBuffer();
    return performance.now() - t0;
  };
  for (let i = 0; i < 5; i++) {
    await echo();
    await ingest(server, slotId, photo);
  }
  const run: OneAtATimeRun = { echo: [], ingest: [], failures: {}, phases: {} };
  const ids: string[] = [];
  const starts = new Map<string, number>();
  const answers = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    run.echo.push(await echo());
    const r = await ingest(server, slotId, photo);
    if (r.status !== 200 || !r.jobId) {
      run.failures[r.status] = (run.failures[r.status] ?? 0) + 1;
      continue;
    }
    run.ingest.push(r.ms);
    ids.push(r.jobId);
    starts.set(r.jobId, r.startedAt);
    answers.set(r.jobId, r.receivedAt);
  }
  run.phases = await jobPhases(server.env.DATABASE_URL!, ids, starts, answers);
  return run;
}

/** Splits each job's round trip by its database timestamps (same host, same wall clock). */
export async function jobPhases(
  url: string,
  ids: string[],
  starts: Map<string, number>,
  answers: Map<string, number>,
): Promise<Record<string, number[]>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<
      {
        id: string;
        created: number;
        started: number;
        finalized: number;
        provider_ms: number | null;
        responded: number | null;
      }[]
    >`
      select j.id,
        extract(epoch from j.created_at) * 1000 as created,
        extract(epoch from j.started_at) * 1000 as started,
        extract(epoch from j.finalized_at) * 1000 as finalized,
        j.provider_latency_ms as provider_ms,
        (select extract(epoch from l.occurred_at) * 1000 from processing_log l
          where l.job_id = j.id and l.event = 'provider_responded' limit 1) as responded
      from job j where j.id in ${sql(ids)}`;
    const phases: Record<string, number[]> = {
      "upload + checks → job row": [],
      "job row → claimed (wake-up)": [],
      "claimed → provider call": [],
      "provider call": [],
      "provider answer → finalized": [],
      "finalized → booth has the image": [],
    };
    for (const r of rows) {
      const created = Number(r.created);
      const started = Number(r.started);
      const finalized = Number(r.finalized);
      const provider = Number(r.provider_ms ?? 0);
      const responded = r.responded === null ? finalized : Number(r.responded);
      phases["upload + checks → job row"]!.push(created - starts.get(r.id)!);
      phases["job row → claimed (wake-up)"]!.push(started - created);
      phases["claimed → provider call"]!.push(responded - provider - started);
      phases["provider call"]!.push(provider);
      phases["provider answer → finalized"]!.push(finalized - responded);
      phases["finalized → booth has the image"]!.push(answers.get(r.id)! - finalized);
    }
    return phases;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function addedQuantiles(run: LatencyRun): { p50: number; p99: number } {
  return {
    p50: percentile(run.ingest, 50) - percentile(run.direct, 50),
    p99: percentile(run.ingest, 99) - percentile(run.direct, 99),
  };
}

export function phaseLines(phases: Record<string, number[]>): string[] {
  return Object.entries(phases).map(
    ([name, v]) =>
      `${name.padEnd(34)} p50 ${median(v).toFixed(1).padStart(7)} ms   p99 ${percentile(v, 99).toFixed(1).padStart(7)} ms`,
  );
}
