/**
 * Builds a real PhotoChanger for a test: its own database (cloned from the migrated template),
 * its own data dir, the real HTTP server on a free port, known passwords, and helpers to upload
 * the way DSLR Remote Pro does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setAdminPassword } from "../../src/accounts";
import { type Config, loadConfig } from "../../src/config";
import { connectDatabase, type Db, type Sql } from "../../src/db/client";
import type { JobRow } from "../../src/db/schema";
import { isFinal } from "../../src/domain/outcome";
import type { Clock } from "../../src/lib/clock";
import { createLogger, type Logger } from "../../src/lib/log";
import { updateSettings } from "../../src/modules/settings/service";
import type { SlotUpdate } from "../../src/modules/slots/model";
import { updateSlot } from "../../src/modules/slots/service";
import type { Provider } from "../../src/providers/types";
import { Runtime } from "../../src/runtime";
import { listen } from "../../src/server";

export const INGEST_PASSWORD = "booth-secret-42";
export const ADMIN_PASSWORDS = { serg: "serg-password-1", igor: "igor-password-1" } as const;

export function freshDatabase(): Promise<string> {
  const fn = (globalThis as Record<string, unknown>).__photochangerFreshDatabase as () => Promise<string>;
  return fn();
}

export interface TestAppOptions {
  workers?: boolean;
  workerCount?: number;
  clock?: Clock;
  providers?: Provider[];
  env?: Record<string, string>;
  /** Reuse a database (e.g. a second instance on the same database). */
  databaseUrl?: string;
  /** Share a data dir (e.g. two instances on one media root). */
  dataDir?: string;
  /** Capture log lines (for secret scans); default: silent. */
  logLines?: string[];
  /** Told each log line as it is written (to wait for the product's own log events). */
  onLogLine?: (line: string) => void;
}

export interface TestApp {
  runtime: Runtime;
  url: string;
  config: Config;
  databaseUrl: string;
  dataDir: string;
  log: Logger;
  /** The test's own connection to the app's database, for reading back what the product did. */
  db: Db;
  sql: Sql;
  stop(): Promise<void>;
  /**
   * Changes a slot through the versioned, audited update the API and the CLI use (the body of
   * `PUT /api/slots/{id}`): settings the product refuses are refused here too.
   */
  configureSlot(id: string, values: SlotUpdate): Promise<void>;
  /** T_sync through the validated settings update (the product accepts 10–60 s). */
  setSyncSeconds(seconds: number): Promise<void>;
  /** One setting through the validated, audited update behind `PUT /api/settings`. */
  setSetting(key: string, value: unknown): Promise<void>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase());
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "photochanger-test-data-"));
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PHOTOCHANGER_DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    PORT: "8080",
    WORKER_COUNT: String(options.workerCount ?? 4),
    LOG_LEVEL: "debug",
    ...options.env,
  });
  const lines = options.logLines;
  const onLine = options.onLogLine;
  const log =
    lines || onLine
      ? createLogger("debug", (l) => {
          lines?.push(l);
          onLine?.(l);
        })
      : createLogger("error", () => {});
  const runtime = await Runtime.create(config, {
    clock: options.clock,
    log,
    providers: options.providers,
    workers: options.workers ?? true,
    background: true,
    announce: () => {},
  });
  await runtime.bootstrap();
  await runtime.settings.setIngestPassword(INGEST_PASSWORD, "test");
  for (const [user, pw] of Object.entries(ADMIN_PASSWORDS)) {
    await setAdminPassword({ auth: runtime.store.auth, clock: runtime.clock }, user, pw);
  }
  await runtime.start();
  const app = listen(runtime, { host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${app.server!.port}`;
  const database = connectDatabase(databaseUrl, { max: 2 });
  return {
    runtime,
    url,
    config,
    databaseUrl,
    dataDir,
    log,
    db: database.db,
    sql: database.sql,
    async stop() {
      await app.server?.stop(true);
      await runtime.stop();
      await database.close();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async configureSlot(id, values) {
      await updateSlot(runtime, id, values, { ifMatch: null, by: "test" });
    },
    async setSyncSeconds(seconds) {
      await updateSettings(runtime, { sync_response_seconds: seconds }, "test");
    },
    async setSetting(key, value) {
      await updateSettings(runtime, { [key]: value }, "test");
    },
  };
}

/** The fields DSLR Remote Pro sends with each photo (earlier-photochanger.md §A.2). */
export function dslrFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    time: "1758217512",
    user_id: "Acer",
    id: "CY04N068111304S2L_00000001.",
    profile: "C:\\Users\\Acer\\Documents\\PhotoboothProfiles\\wedding.xml",
    status: "C:\\Users\\Acer\\Pictures\\preview\\IMG_0003.jpg",
    hash: "3f786850e387550fdab836ed7e6dc881de23001b",
    name: "BOOTH-PC",
    model: "Windows",
    version: "3.30.2",
    password: INGEST_PASSWORD,
    ...overrides,
  };
}

export function dslrForm(
  photo: Uint8Array,
  fields: Record<string, string> = dslrFields(),
  fileField = "fileToUpload",
  filename = "IMG_0003.JPG",
  partType = "image/jpeg",
): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(fileField, new File([photo as Uint8Array<ArrayBuffer>], filename, { type: partType }));
  return form;
}

export async function postIngest(
  app: TestApp,
  slotId: string,
  form: FormData,
  path = "/ingest",
): Promise<Response> {
  return fetch(`${app.url}${path}/${slotId}`, { method: "POST", body: form });
}

export async function json(
  res: Response,
): Promise<{ error: { code: string; message: string; details: Record<string, unknown> } }> {
  return (await res.json()) as never;
}

/**
 * Resolves when this process has inserted its next job (queued, or leased to an idle loop), after
 * calling `fn` right there, before any worker has started on it. A test that moves the ManualClock
 * in `fn` sees the job created at the old time and run at the new one.
 */
export function whenQueued(app: TestApp, fn: () => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    const off = app.runtime.events.onEnqueued(() => {
      off();
      fn();
      resolve();
    });
  });
}

/** Resolves with the job's row once it is final (the product's own finalization event; at once if it already is). */
export async function whenFinal(app: TestApp, jobId: string): Promise<JobRow> {
  let wake: () => void = () => {};
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const off = app.runtime.events.onFinalized(jobId, () => wake());
  try {
    for (;;) {
      const row = await app.runtime.queue.get(jobId);
      if (!row) throw new Error(`no job ${jobId}`);
      if (isFinal(row.status)) return row;
      await woken;
    }
  } finally {
    off();
  }
}

/**
 * The app's log as events a test can wait on: pass `watch.sink` as `onLogLine`, then
 * `await watch.next("job.dispatched", { slot: "slot-004" })` — the product's own account of where a
 * job is (claimed and running, say), without polling the database.
 */
export class LogWatch {
  private readonly waiters = new Set<(line: Record<string, unknown>) => boolean>();

  readonly sink = (line: string): void => {
    if (!this.waiters.size) return;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const w of [...this.waiters]) if (w(parsed)) this.waiters.delete(w);
  };

  next(event: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiters.add((line) => {
        if (line.event !== event) return false;
        if (Object.entries(fields).some(([k, v]) => line[k] !== v)) return false;
        resolve(line);
        return true;
      });
    });
  }
}

/** Polls until `fn` returns a truthy value (for background effects like the sweeper). */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not reached in time");
    await Bun.sleep(50);
  }
}
