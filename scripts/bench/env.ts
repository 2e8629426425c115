/**
 * The bench's world: one PostgreSQL (DATABASE_URL / BENCH_DATABASE_URL if given, else an embedded
 * one in a temp dir), a fresh database per server so runs never mix, and real server processes
 * (`bun src/main.ts serve`, or the compiled binary) configured through the CLI and the HTTP API as
 * an operator would. Everything started here is registered for clean-up.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../../src/db/embedded";
import { silentLogger } from "../../src/lib/log";
import { atExit, collect, freePort, sleep, spawnChild, stopChild } from "./lib";

export const ROOT = join(import.meta.dir, "../..");
export const ADMIN_PASSWORD = "bench-admin-password-1";
export const INGEST_PASSWORD = "bench-ingest-password-1";

export interface Postgres {
  /** URL of the server's maintenance database. */
  url: string;
  embedded: boolean;
  version: string;
  /** Creates an empty database and returns its URL (dropped at exit). */
  createDatabase(tag: string): Promise<string>;
}

export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "photochanger-bench-"));
  // The embedded PostgreSQL runs as the unprivileged `postgres` user when we are root.
  chmodSync(dir, 0o755);
  atExit(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startPostgres(scratch: string): Promise<Postgres> {
  let url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "";
  const embedded = !url;
  if (embedded) {
    const pg = await startEmbeddedPostgres(join(scratch, "pg"), await freePort(), silentLogger);
    atExit(pg.stop);
    url = pg.url;
  }
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  atExit(() => admin.end({ timeout: 5 }));
  const [{ server_version: version }] = (await admin`show server_version`) as unknown as [
    { server_version: string },
  ];
  let n = 0;
  return {
    url,
    embedded,
    version,
    async createDatabase(tag) {
      const name = `photochanger_bench_${process.pid}_${tag}_${++n}`;
      await admin.unsafe(`create database ${name}`);
      atExit(async () => {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      });
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
  };
}

export interface ServerOptions {
  databaseUrl: string;
  dataDir: string;
  workers?: number;
  geminiUrl?: string;
  env?: Record<string, string>;
  /** Command to run instead of `bun src/main.ts` (e.g. the compiled binary). */
  command?: string[];
  /** Write a CPU profile (Bun's --cpu-prof-md) into this directory when the server stops. */
  cpuProfileDir?: string;
}

/** A slot as the bench configures it through `PUT /api/slots/{id}`. */
export interface SlotSetup {
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  output_format?: string;
}

/** A Gemini slot whose fake answers after `ms` (the prompt carries the latency; see fake-gemini.ts). */
export function geminiSlot(ms: number): SlotSetup {
  return { provider: "gemini", operation: "image_edit", settings: { prompt: `bench latency=${ms}` } };
}

/** The `local` provider handing the photo back in its own format. */
export const PASSTHROUGH: SlotSetup = {
  provider: "local",
  operation: "passthrough",
  settings: {},
  output_format: "original",
};

export class BenchServer {
  token = "";
  cookie = "";
  private constructor(
    readonly proc: Subprocess,
    readonly url: string,
    readonly env: Record<string, string>,
    readonly output: { text: string },
    readonly startMs: number,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }

  static async start(o: ServerOptions): Promise<BenchServer> {
    mkdirSync(o.dataDir, { recursive: true });
    chmodSync(o.dataDir, 0o755);
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: o.databaseUrl,
      PHOTOCHANGER_DATA_DIR: o.dataDir,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      WORKER_COUNT: String(o.workers ?? 16),
      ...(o.geminiUrl ? { GEMINI_BASE_URL: o.geminiUrl, GEMINI_API_KEY: "bench-gemini-key" } : {}),
      ...o.env,
    };
    const prof = o.cpuProfileDir ? ["--cpu-prof-md", `--cpu-prof-dir=${o.cpuProfileDir}`] : [];
    const cmd = o.command ?? ["bun", ...prof, join(ROOT, "src/main.ts"), "serve"];
    const started = performance.now();
    const proc = spawnChild(cmd, { cwd: o.dataDir, env, stdin: "ignore" });
    const output = collect(proc.stdout);
    const errors = collect(proc.stderr);
    const url = `http://127.0.0.1:${port}`;
    const readyMs = await waitReady(url, proc, 60_000);
    if (readyMs === null) {
      await stopChild(proc, 2000);
      throw new Error(
        `server did not become ready:\n${output.text.slice(-2000)}\n${errors.text.slice(-2000)}`,
      );
    }
    return new BenchServer(proc, url, env, output, readyMs - started);
  }

  /**
   * A started server, set up as an operator would: passwords and login (setUp), the runtime
   * settings through the API, the slots. Stopped at exit.
   */
  static async ready(
    o: ServerOptions & { settings: Record<string, unknown>; slots: Record<string, SlotSetup> },
  ): Promise<BenchServer> {
    const s = await BenchServer.start(o);
    atExit(async () => void (await s.stop()));
    await s.setUp();
    await s.apiOk("PUT", "/api/settings", o.settings);
    for (const [id, slot] of Object.entries(o.slots)) await s.configureSlot(id, slot);
    return s;
  }

  /** Runs the `photochanger` CLI against the same database and data dir. */
  async cli(...args: string[]): Promise<string> {
    const proc = spawnChild(["bun", join(ROOT, "src/main.ts"), ...args], {
      cwd: this.env.PHOTOCHANGER_DATA_DIR,
      env: this.env,
      stdin: "ignore",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout as ReadableStream).text(),
      new Response(proc.stderr as ReadableStream).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`photochanger ${args.join(" ")} failed (${code}): ${err || out}`);
    return out;
  }

  /** Sets the admin and booth passwords with the CLI and logs in through the API. */
  async setUp(): Promise<void> {
    await this.cli("admin", "set-password", "serg", "--value", ADMIN_PASSWORD);
    await this.cli("rotate-password", "--value", INGEST_PASSWORD);
    const res = await fetch(`${this.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { access_token: string }).access_token;
    this.cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  }

  /** An admin page as the browser gets it (session cookie). */
  async page(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: { cookie: this.cookie }, redirect: "manual" });
  }

  async api(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async apiOk(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.api(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  async configureSlot(id: string, s: SlotSetup): Promise<void> {
    await this.apiOk("PUT", `/api/slots/${id}`, {
      name: `bench ${id}`,
      enabled: true,
      provider: s.provider,
      operation: s.operation,
      settings: s.settings,
      size_limit_mb: 50,
      output_format: s.output_format ?? "jpeg",
    });
  }

  async stop(): Promise<number> {
    return stopChild(this.proc, 30_000);
  }
}

/** Polls /readyz; returns the performance.now() of the first 200, or null on timeout or exit. */
export async function waitReady(url: string, proc: Subprocess, timeoutMs: number): Promise<number | null> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (proc.exitCode !== null || proc.signalCode !== null) return null;
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  return null;
}

/** A DSLR Remote Pro-shaped upload. */
export function boothForm(photo: Uint8Array, password = INGEST_PASSWORD): FormData {
  const f = new FormData();
  f.append("password", password);
  f.append("time", "1758217512");
  f.append("name", "BENCH");
  f.append(
    "fileToUpload",
    new File([photo as Uint8Array<ArrayBuffer>], "IMG_0001.JPG", { type: "image/jpeg" }),
  );
  return f;
}

export interface IngestResult {
  status: number;
  ms: number;
  /** Wall-clock time the answer was fully read (Date.now()), to compare with database timestamps. */
  receivedAt: number;
  startedAt: number;
  jobId: string | null;
  body: Uint8Array;
}

export async function ingest(
  server: { url: string },
  slotId: string,
  photo: Uint8Array,
): Promise<IngestResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(`${server.url}/ingest/${slotId}`, { method: "POST", body: boothForm(photo) });
    const body = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      ms: performance.now() - t0,
      receivedAt: Date.now(),
      startedAt,
      jobId: res.headers.get("x-job-id"),
      body,
    };
  } catch {
    return {
      status: 0,
      ms: performance.now() - t0,
      receivedAt: Date.now(),
      startedAt,
      jobId: null,
      body: new Uint8Array(),
    };
  }
}
