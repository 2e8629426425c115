/**
 * Builds a real PhotoChanger for a test: its own database (cloned from the migrated template),
 * its own data dir, the real HTTP server on a free port, known passwords, and helpers to upload
 * the way DSLR Remote Pro does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { setAdminPassword } from "../../src/accounts";
import { type Config, loadConfig } from "../../src/config";
import { connectDatabase, type Db, type Sql } from "../../src/db/client";
import { slot } from "../../src/db/schema";
import type { Clock } from "../../src/lib/clock";
import { createLogger, type Logger } from "../../src/lib/log";
import type { Provider } from "../../src/providers/types";
import { Runtime } from "../../src/runtime";
import { listen } from "../../src/server";
import { KEYS } from "../../src/settings/service";

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
}

export interface TestApp {
  rt: Runtime;
  url: string;
  config: Config;
  databaseUrl: string;
  dataDir: string;
  log: Logger;
  /** The test's own connection to the app's database, for reading back what the product did. */
  db: Db;
  sql: Sql;
  stop(): Promise<void>;
  /** Sets a slot's provider/operation/settings directly (as the CLI does). */
  configureSlot(id: string, values: Partial<typeof slot.$inferInsert>): Promise<void>;
  setSyncSeconds(seconds: number): Promise<void>;
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
  const log = lines ? createLogger("debug", (l) => lines.push(l)) : createLogger("error", () => {});
  const rt = await Runtime.create(config, {
    clock: options.clock,
    log,
    providers: options.providers,
    workers: options.workers ?? true,
    background: true,
    announce: () => {},
  });
  await rt.bootstrap();
  await rt.settings.setIngestPassword(INGEST_PASSWORD, "test");
  for (const [user, pw] of Object.entries(ADMIN_PASSWORDS)) {
    await setAdminPassword({ auth: rt.store.auth, clock: rt.clock }, user, pw);
  }
  await rt.start();
  const app = listen(rt, { host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${app.server!.port}`;
  const database = connectDatabase(databaseUrl, { max: 2 });
  return {
    rt,
    url,
    config,
    databaseUrl,
    dataDir,
    log,
    db: database.db,
    sql: database.sql,
    async stop() {
      await app.server?.stop(true);
      await rt.stop();
      await database.close();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async configureSlot(id, values) {
      await database.db.update(slot).set(values).where(eq(slot.id, id));
    },
    async setSyncSeconds(seconds) {
      await rt.settings.set(KEYS.syncResponseSeconds, seconds, "test");
    },
    async setSetting(key, value) {
      await rt.settings.set(key, value, "test");
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
