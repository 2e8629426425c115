/**
 * What the operator commands report: `status` (is the box healthy?) and `purge` (what the cleaner
 * removed). `status` reads without side effects — no migrations, no files created — so it still
 * answers, with the reason, when the database is down.
 */
import type { Config } from "./config";
import type { CleanupReport } from "./cron/cleanup";
import { startEmbeddedPostgres } from "./db/embedded";
import { embeddedMigrations } from "./db/migrate";
import type { Logger } from "./lib/log";
import { openMediaStore } from "./media/open";
import { ResultSpool } from "./media/spool";
import { LEASE_TTL_MS } from "./queue/index";
import { KEYS, SETTING_DEFAULTS } from "./settings/service";
import { Store } from "./store/index";
import type { InstanceInfo } from "./store/instances";
import { VERSION } from "./version";

export interface StatusReport {
  version: string;
  database: {
    reachable: boolean;
    url: string;
    error?: string;
    migrations?: { applied: number; built_in: number };
  };
  queue: { pending: number; processing: number; in_flight: number; max_in_flight: number } | null;
  live_instances: number | null;
  /** The instance registry: live instances and those that stopped or went silent in the last hour. */
  instances: InstanceView[] | null;
  media: {
    backend: "local" | "s3";
    location: string;
    /** With a bucket: whether it answered a bounded HEAD just now, and why not. */
    reachable?: boolean;
    error?: string;
    /** With a bucket: results kept on this machine's disk until the bucket takes them. */
    spool?: { files: number; bytes: number; max_bytes: number; oldest: string | null };
  };
  last_cleanup: {
    finished_at: string;
    trigger: string;
    removed: Record<string, number>;
    error: string | null;
  } | null;
  disk:
    | { media_root: string; free_bytes: number; total_bytes: number }
    | { media_root: string; error: string };
}

export interface InstanceView {
  id: string;
  hostname: string;
  address: string | null;
  pid: number;
  version: string;
  started_at: string;
  last_heartbeat_at: string;
  stopped_at: string | null;
  jobs_in_flight: number;
  live: boolean;
}

/** Instances that stopped or went silent this recently are still listed (a rolling upgrade). */
const RECENT_INSTANCES_MS = 60 * 60_000;

/**
 * The instance registry as the operator sees it (`photochanger status`, the health page): every
 * live instance with its version, address, last heartbeat and jobs in flight, then the recent dead.
 */
export async function instanceRegistry(store: Pick<Store, "instances">): Promise<InstanceView[]> {
  return (await store.instances.list(LEASE_TTL_MS, RECENT_INSTANCES_MS)).map(instanceView);
}

function instanceView(i: InstanceInfo): InstanceView {
  return {
    id: i.id,
    hostname: i.hostname,
    address: i.address,
    pid: i.pid,
    version: i.version,
    started_at: i.startedAt.toISOString(),
    last_heartbeat_at: i.heartbeatAt.toISOString(),
    stopped_at: i.stoppedAt?.toISOString() ?? null,
    jobs_in_flight: i.jobsInFlight,
    live: i.live,
  };
}

/** The URL without its password, for output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable)";
  }
}

/** How long `status` waits for the bucket to answer one HEAD (it writes nothing). */
const BUCKET_CHECK_MS = 3_000;

/** With a bucket: does it answer now (a HEAD of a key that need not exist), and what waits in the spool. */
async function bucketStatus(
  config: Config,
  media: ReturnType<typeof openMediaStore>,
  log: Logger,
): Promise<Partial<StatusReport["media"]>> {
  if (media.backend !== "s3") return {};
  const out: Partial<StatusReport["media"]> = {};
  try {
    await media.exists("media/.status-check", { until: Date.now() + BUCKET_CHECK_MS });
    out.reachable = true;
  } catch (err) {
    out.reachable = false;
    out.error = (err as Error).message;
  }
  const spool = await new ResultSpool(config.dataDir, config.mediaSpoolMaxBytes, log).stats();
  out.spool = {
    files: spool.files,
    bytes: spool.bytes,
    max_bytes: spool.maxBytes,
    oldest: spool.oldest?.toISOString() ?? null,
  };
  return out;
}

export async function collectStatus(config: Config, log: Logger): Promise<StatusReport> {
  const media = openMediaStore(config, log);
  // The local volume: the media directory's, or with a bucket the data dir's.
  const volume = media.backend === "local" ? media.location : config.dataDir;
  let disk: StatusReport["disk"];
  try {
    const { free, total } = await media.diskUsage();
    disk = { media_root: volume, free_bytes: free, total_bytes: total };
  } catch (err) {
    disk = { media_root: volume, error: (err as Error).message };
  }
  const report: StatusReport = {
    version: VERSION,
    database: { reachable: false, url: config.databaseUrl ? redactUrl(config.databaseUrl) : "(embedded)" },
    queue: null,
    live_instances: null,
    instances: null,
    media: { backend: media.backend, location: media.location, ...(await bucketStatus(config, media, log)) },
    last_cleanup: null,
    disk,
  };

  let stopEmbedded = async () => {};
  let url = config.databaseUrl;
  try {
    if (!url) {
      const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log);
      stopEmbedded = embedded.stop;
      url = embedded.url;
      report.database.url = `${redactUrl(url)} (embedded)`;
    }
  } catch (err) {
    report.database.error = (err as Error).message;
    return report;
  }
  const store = Store.open(url, { max: 1 });
  try {
    await store.ping(5000);
    await store.warm();
    report.database.reachable = true;
    report.database.migrations = {
      applied: await store.migrationsApplied(),
      built_in: embeddedMigrations().length,
    };
    const counts = await store.jobs.countActive();
    const cap = await store.settings.get(KEYS.maxInFlightJobs);
    report.queue = {
      ...counts,
      in_flight: counts.pending + counts.processing,
      max_in_flight: typeof cap?.value === "number" ? cap.value : SETTING_DEFAULTS.maxInFlightJobs,
    };
    report.instances = await instanceRegistry(store);
    report.live_instances = report.instances.filter((i) => i.live).length;
    const last = await store.cleanupRuns.last();
    report.last_cleanup = last
      ? {
          finished_at: last.finishedAt!.toISOString(),
          trigger: last.trigger,
          removed: last.removed,
          error: last.error,
        }
      : null;
  } catch (err) {
    report.database.error ??= (err as Error).message;
  } finally {
    await store.close().catch(() => {});
    await stopEmbedded();
  }
  return report;
}

export function formatStatus(s: StatusReport): string {
  const lines = [`photochanger ${s.version}`];
  const db = s.database;
  lines.push(
    `database:      ${db.reachable ? "reachable" : "UNREACHABLE"}  ${db.url}${db.error ? `\n               ${db.error}` : ""}`,
  );
  if (db.migrations) {
    const { applied, built_in } = db.migrations;
    const note = applied < built_in ? " — run `photochanger migrate`" : "";
    lines.push(`migrations:    ${applied} of ${built_in} applied${note}`);
  }
  if (s.queue) {
    const q = s.queue;
    lines.push(
      `queue:         ${q.pending} pending, ${q.processing} processing (${q.in_flight} in flight, cap ${q.max_in_flight})`,
    );
  }
  if (s.live_instances !== null) lines.push(`servers:       ${s.live_instances} running`);
  for (const i of s.instances ?? []) {
    const state = i.live ? "live" : i.stopped_at ? `stopped ${i.stopped_at}` : "silent";
    lines.push(
      `  ${(i.address ?? i.hostname).padEnd(24)} ${i.version.padEnd(10)} pid ${String(i.pid).padEnd(7)} ` +
        `${String(i.jobs_in_flight).padStart(3)} jobs  heartbeat ${i.last_heartbeat_at}  ${state}`,
    );
  }
  const m = s.media;
  const reach = m.reachable === undefined ? "" : m.reachable ? "  reachable" : "  UNREACHABLE";
  lines.push(`media:         ${m.backend === "s3" ? "bucket" : "directory"} ${m.location}${reach}`);
  if (m.error) lines.push(`               ${m.error}`);
  if (m.spool && m.spool.files > 0) {
    lines.push(
      `media spool:   ${m.spool.files} results (${formatBytes(m.spool.bytes)} of ${formatBytes(m.spool.max_bytes)}) ` +
        `waiting for the bucket since ${m.spool.oldest}`,
    );
  } else if (m.spool) {
    lines.push("media spool:   empty");
  }
  if (db.reachable) {
    const c = s.last_cleanup;
    lines.push(
      c
        ? `last cleanup:  ${c.finished_at} (${c.trigger})${c.error ? ` FAILED: ${c.error}` : ""} — ${summarizeRemoved(c.removed)}`
        : "last cleanup:  never",
    );
  }
  lines.push(
    "error" in s.disk
      ? `disk:          ${s.disk.media_root}: ${s.disk.error}`
      : `disk:          ${formatBytes(s.disk.free_bytes)} free of ${formatBytes(s.disk.total_bytes)} (${s.disk.media_root})`,
  );
  return lines.join("\n");
}

function summarizeRemoved(r: Record<string, number>): string {
  const parts = [
    `${r.results ?? 0} results`,
    `${r.thumbnails ?? 0} thumbnails`,
    `${r.media_objects ?? 0} media objects`,
    `${r.orphan_files ?? 0} orphan files`,
  ];
  const bytes =
    (r.results_bytes ?? 0) +
    (r.thumbnails_bytes ?? 0) +
    (r.media_objects_bytes ?? 0) +
    (r.orphan_files_bytes ?? 0);
  return `${parts.join(", ")} (${formatBytes(bytes)})`;
}

/** The purge report, by kind, with bytes. */
export function formatPurge(r: CleanupReport): string {
  const rows: [string, { count: number; bytes: number }][] = [
    ["results", r.results],
    ["thumbnails", r.thumbnails],
    ["kept photos", r.photos],
    ["media objects", r.mediaObjects],
    ["orphan files", r.orphanFiles],
  ];
  const total = rows.reduce((n, [, k]) => n + k.bytes, 0);
  const lines = [r.dryRun ? "Would remove (dry run, nothing deleted):" : "Removed:"];
  for (const [name, k] of rows) {
    lines.push(`  ${name.padEnd(14)} ${String(k.count).padStart(6)}  ${formatBytes(k.bytes).padStart(10)}`);
  }
  lines.push(`  ${"total".padEnd(14)} ${"".padStart(6)}  ${formatBytes(total).padStart(10)}`);
  if (!r.dryRun) {
    lines.push(
      `Stale jobs resolved: ${r.staleJobs}`,
      `Expired login-failure records pruned: ${r.authFailures}`,
    );
  }
  return lines.join("\n");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
