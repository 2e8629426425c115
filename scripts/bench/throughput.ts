/**
 * Row 2 — throughput. 64 booths post 200 KB JPEGs to a `local` passthrough slot that keeps the
 * original format, as fast as answers come, for a fixed time; the same load generator then drives
 * the bare `Bun.serve` multipart echo below (run as its own process, like the server), so the
 * figure is a ratio to what Bun itself does with the same uploads on the same machine.
 *
 *   bun scripts/bench/throughput.ts --echo PORT [HOLD_MS]   the echo server (holding each answer)
 */
import { join } from "node:path";
import { boothForm, ingest } from "./env";
import { freePort, sleep, spawnChild, stopChild } from "./lib";

if (import.meta.main && process.argv[2] === "--echo") {
  // The least a server can do with a booth upload: parse the multipart body, answer the image
  // (after HOLD_MS, for the held-connections baseline: a provider that takes that long).
  const hold = Number(process.argv[4] ?? 0);
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(process.argv[3]),
    maxRequestBodySize: 64 * 1024 * 1024,
    idleTimeout: 0,
    async fetch(req) {
      const form = await req.formData();
      const file = form.get("fileToUpload");
      if (!(file instanceof File)) return new Response("no file", { status: 400 });
      if (hold > 0) await Bun.sleep(hold);
      return new Response(file, { headers: { "content-type": "image/jpeg" } });
    },
  });
}

export interface LoadResult {
  ok: number;
  failed: Record<string, number>;
  perSecond: number;
  latencies: number[];
  /** Answered jobs (ingest only), for the per-phase breakdown. */
  jobs: { id: string; startedAt: number; receivedAt: number }[];
}

interface Sent {
  status: number;
  ms: number;
  jobId?: string | null;
  startedAt?: number;
  receivedAt?: number;
}

/** `concurrency` clients posting `send()` back to back for `seconds`. */
export async function load(
  concurrency: number,
  seconds: number,
  send: () => Promise<Sent>,
): Promise<LoadResult> {
  const end = performance.now() + seconds * 1000;
  const result: LoadResult = { ok: 0, failed: {}, perSecond: 0, latencies: [], jobs: [] };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await send();
        if (r.status === 200) {
          result.ok++;
          result.latencies.push(r.ms);
          if (r.jobId) result.jobs.push({ id: r.jobId, startedAt: r.startedAt!, receivedAt: r.receivedAt! });
        } else result.failed[r.status] = (result.failed[r.status] ?? 0) + 1;
      }
    }),
  );
  result.perSecond = result.ok / ((performance.now() - t0) / 1000);
  return result;
}

export async function ingestLoad(
  url: string,
  slotId: string,
  photo: Uint8Array,
  concurrency: number,
  seconds: number,
) {
  return load(concurrency, seconds, () => ingest({ url }, slotId, photo));
}

/** The bare echo server as its own process (answers held `holdMs`), once it answers. */
export async function startEcho(holdMs = 0): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = spawnChild(
    ["bun", join(import.meta.dir, "throughput.ts"), "--echo", String(port), String(holdMs)],
    { stdin: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      // Any answer means it listens (a GET is refused at once, without the hold).
      await fetch(url).then((r) => r.arrayBuffer());
      break;
    } catch {
      await sleep(25);
    }
  }
  return { url, pid: proc.pid, stop: async () => void (await stopChild(proc, 2000)) };
}

export async function echoLoad(photo: Uint8Array, concurrency: number, seconds: number): Promise<LoadResult> {
  const echo = await startEcho();
  const url = echo.url;
  try {
    return await load(concurrency, seconds, async () => {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { method: "POST", body: boothForm(photo) });
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - t0 };
      } catch {
        return { status: 0, ms: performance.now() - t0 };
      }
    });
  } finally {
    await echo.stop();
  }
}
