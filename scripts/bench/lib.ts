/**
 * Small helpers of the benchmark: percentiles, formatting, free ports, and the registry of child
 * processes — every process the bench starts is bounded and killed on exit, even on Ctrl-C.
 */
import type { Subprocess } from "bun";

export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function ms(n: number, digits = 1): string {
  return Number.isFinite(n) ? `${n.toFixed(digits)} ms` : "n/a";
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function dist(values: number[]): string {
  return `p50 ${ms(percentile(values, 50))}, p95 ${ms(percentile(values, 95))}, p99 ${ms(percentile(values, 99))} (n=${values.length})`;
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export function sleep(msec: number): Promise<void> {
  return new Promise((r) => setTimeout(r, msec));
}

/** Resident set size of a process in bytes (Linux /proc), or NaN when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Runs `fn` in parallel on `concurrency` lanes until it has been called `total` times. */
export async function lanes(
  concurrency: number,
  total: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await fn(next++);
    }),
  );
}

const children = new Set<Subprocess>();
const cleanups: (() => Promise<void>)[] = [];

/** Starts a child process that is killed when the bench exits, however it exits. */
export function spawnChild(cmd: string[], opts: Parameters<typeof Bun.spawn>[1] = {}): Subprocess {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", ...opts });
  children.add(proc);
  proc.exited.then(() => children.delete(proc));
  return proc;
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(proc: Subprocess, graceMs = 10_000): Promise<number> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode ?? -1;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** Registers an async clean-up (database drop, embedded PostgreSQL stop) run at exit, newest first. */
export function atExit(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

let cleaning: Promise<void> | null = null;
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) c.kill("SIGKILL");
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`bench: clean-up failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, cleaning up`);
    cleanupAll().finally(() => process.exit(130));
  });
}
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Reads a child's stream into a string buffer (kept for error reports, capped). */
export function collect(stream: ReadableStream<Uint8Array> | number | undefined | null, cap = 200_000) {
  const out = { text: "" };
  if (stream && typeof stream !== "number") {
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        out.text += dec.decode(chunk);
        if (out.text.length > cap) out.text = out.text.slice(-cap);
      }
    })().catch(() => {});
  }
  return out;
}
