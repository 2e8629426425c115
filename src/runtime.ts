/**
 * The process's services, wired once: database (embedded if no DATABASE_URL), migrations, media,
 * settings, providers, queue, workers and the background timers. The HTTP app and the CLI both
 * start from here; tests build one per file against their own database.
 */
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ensureAdminUsers } from "./accounts";
import type { Config } from "./config";
import { Purges } from "./cron/cleanup";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./db/embedded";
import { runMigrations } from "./db/migrate";
import { type Clock, systemClock } from "./lib/clock";
import { createLogger, type Logger } from "./lib/log";
import { generatePassword, loadOrCreateMasterKey } from "./lib/secrets";
import { MediaObjects } from "./media/objects";
import { openMediaStore } from "./media/open";
import { SpooledMediaStore } from "./media/spool";
import type { MediaStore } from "./media/storage";
import { TemplateStore } from "./media/templates";
import { Metrics } from "./metrics";
import { notifyTick } from "./modules/attention/notifier";
import { defaultProviders, ProviderRegistry } from "./providers/catalogue";
import type { Provider } from "./providers/types";
import { JobEvents, listenForJobEvents, pollWaiting } from "./queue/events";
import { JobQueue, LEASE_TTL_MS, LEFTOVER_AGE_MS, OVERDUE_GRACE_MS } from "./queue/index";
import { drainSpool } from "./queue/spool-drain";
import { QuotaService } from "./quota/service";
import type { Services } from "./services";
import { listenForSettings, SettingsService } from "./settings/service";
import { Store } from "./store/index";
import { VERSION } from "./version";
import { WorkerPool } from "./worker/pool";

const INSTANCE_HEARTBEAT_MS = 3_000;
const SWEEP_MS = 5_000;
/**
 * How often the held requests' jobs are read together, beside the wake-ups. A NOTIFY is lost only
 * with the listener's connection, and its reconnect reads them at once (listenForJobEvents); this
 * is the last line of defence, not a per-second re-read.
 */
export const WAITERS_POLL_MS = 5_000;
/** Crash leftovers (files, missing log rows) are looked for this often (see LEFTOVER_AGE_MS). */
const LEFTOVERS_MS = 60_000;
const STATS_ROLLUP_MS = 10 * 60_000;
/** A failing bucket is probed, and the result spool drained into it, this often. */
const MEDIA_WATCH_MS = 3_000;

export interface RuntimeOptions {
  clock?: Clock;
  log?: Logger;
  providers?: Provider[];
  /** Start worker loops (default true). The CLI runs without them. */
  workers?: boolean;
  /** Register as a live instance and run the sweeper (default: same as `workers`). */
  background?: boolean;
  /** Where first-start credentials are shown (default: the console). */
  announce?: (lines: string[]) => void;
}

export interface FirstStartSecrets {
  admins: { username: string; password: string }[];
  ingestPassword: string | null;
}

export class Runtime implements Services {
  readonly instanceId = randomUUID();
  readonly events: JobEvents;
  readonly media: MediaStore;
  readonly objects: MediaObjects;
  readonly templates: TemplateStore;
  readonly settings: SettingsService;
  readonly providers: ProviderRegistry;
  readonly queue: JobQueue;
  readonly workers: WorkerPool;
  readonly metrics = new Metrics();
  readonly purges: Purges;
  readonly quota: QuotaService;
  private timers: ReturnType<typeof setInterval>[] = [];
  private listeners: { unlisten(): Promise<void> }[] = [];
  /** host:port this instance serves on, once it listens (shown in the instance registry). */
  private address: string | null = null;
  private registered = false;
  private stopped = false;
  /** True once shutdown began: new ingests are refused, held ones are still answered. */
  draining = false;
  /** Booth requests accepted and waiting for their job here (the drain waits for them). */
  heldRequests = 0;
  /**
   * Since when this process has reached the database without a break (null: it cannot now). Leases
   * are judged by their heartbeat only after a whole TTL of this: after an outage every heartbeat
   * looks old, including those of workers that are alive and about to beat again.
   */
  private dbReachableSince: number | null = Date.now();

  private constructor(
    readonly config: Config,
    readonly store: Store,
    private readonly embedded: EmbeddedDatabase | null,
    readonly clock: Clock,
    readonly log: Logger,
    providers: Provider[],
    private readonly options: RuntimeOptions,
  ) {
    this.events = new JobEvents(config.wakeups);
    this.media = openMediaStore(config, log);
    this.media.ensureLayout();
    this.objects = new MediaObjects(store.mediaObjects, this.media);
    this.templates = new TemplateStore(store.templates, this.media);
    const masterKey = loadOrCreateMasterKey(join(config.dataDir, "master.key"));
    this.settings = new SettingsService(store, clock, config, masterKey);
    this.providers = new ProviderRegistry(providers);
    this.quota = new QuotaService(store.providerUsage, clock, this.settings, this.metrics, log);
    this.queue = new JobQueue(store.jobs, clock, this.media, this.objects, this.events, log);
    this.queue.onFinalized((job) => this.metrics.jobFinalized(job));
    this.workers = new WorkerPool(
      {
        queue: this.queue,
        events: this.events,
        clock,
        log,
        media: this.media,
        objects: this.objects,
        providers: this.providers,
        settings: this.settings,
        quota: this.quota,
        metrics: this.metrics,
        instanceId: this.instanceId,
        publicBaseUrl: async () => (await this.settings.current()).publicBaseUrl,
      },
      config.workerCount,
    );
    this.purges = new Purges(this);
  }

  static async create(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
    const log = options.log ?? createLogger(config.logLevel);
    const clock = options.clock ?? systemClock;
    let embedded: EmbeddedDatabase | null = null;
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log);
      url = embedded.url;
    }
    try {
      const applied = await runMigrations(url);
      if (applied) log.info("db.migrated", { applied });
      const store = Store.open(url, { max: config.databasePoolSize, clock });
      await store.warm();
      return new Runtime(
        config,
        store,
        embedded,
        clock,
        log,
        options.providers ?? defaultProviders(config),
        options,
      );
    } catch (err) {
      await embedded?.stop();
      throw err;
    }
  }

  /** Creates the admins and the ingest password on first start; returns what must be shown once. */
  async bootstrap(): Promise<FirstStartSecrets> {
    const admins = await ensureAdminUsers(this.store.auth, () => generatePassword(16));
    let ingestPassword: string | null = null;
    if (!(await this.settings.hasIngestPassword())) {
      // No ingest password yet: this is a new install (every start after the first has one).
      ingestPassword = generatePassword(12);
      await this.settings.applyFirstStartDefaults();
      await this.settings.setIngestPassword(ingestPassword, "first-start");
    }
    const secrets = { admins, ingestPassword };
    if (admins.length || ingestPassword) {
      // Never into the service log (journald keeps it readable): a 0600 file, and the terminal.
      const file = writeInitialCredentials(this.config.dataDir, firstStartLines(secrets));
      const announce = this.options.announce ?? ((lines: string[]) => announceToTerminal(lines, file));
      announce([...firstStartLines(secrets), `  (also written to ${file}, mode 0600)`]);
      this.log.info("bootstrap.initial_credentials", { file, admins: admins.map((a) => a.username) });
    }
    return secrets;
  }

  /**
   * Registers the instance; re-queues at once the jobs of this host's dead instances (a restart
   * recovers its predecessor's work without waiting for leases to lapse); listens for other
   * processes; starts the workers and the sweeper (dead instances, lapsed leases, overdue jobs)
   * and the leftover reclaim.
   */
  async start(): Promise<void> {
    const background = this.options.background ?? this.options.workers ?? true;
    if (background) {
      instancesHere.add(this.instanceId);
      await this.heartbeat();
      this.registered = true;
      // Independent of each other: the key check, the first sweep and the two LISTEN connections
      // run at once (a cold start waits for the slowest, not for their sum).
      const [keyMatches, jobEvents, settingsEvents, slotEvents, swept] = await Promise.allSettled([
        this.settings.masterKeyMatches(),
        listenForJobEvents(this.store.jobs, this.events, this.log),
        listenForSettings(this.store.settings, this.settings, this.log),
        this.store.slots.listen(),
        this.sweep(),
      ]);
      // Whatever failed, the connections that opened are closed by stop().
      for (const l of [jobEvents, settingsEvents, slotEvents])
        if (l.status === "fulfilled") this.listeners.push(l.value);
      for (const r of [keyMatches, jobEvents, settingsEvents, slotEvents, swept])
        if (r.status === "rejected") throw r.reason;
      if (keyMatches.status === "fulfilled" && !keyMatches.value) {
        // Provider keys stored by the others cannot be read here and their sessions are refused.
        this.log.error("master_key.mismatch", {
          master_key: join(this.config.dataDir, "master.key"),
          fix: "every instance on this database needs the same master.key: copy it from the first one",
        });
      }
      this.every(
        INSTANCE_HEARTBEAT_MS,
        async () => {
          try {
            await this.heartbeat();
            this.dbReachableSince ??= Date.now();
          } catch (err) {
            this.dbReachableSince = null;
            throw err;
          }
        },
        "instance.heartbeat",
      );
      this.every(SWEEP_MS, () => this.sweep(), "queue.sweep");
      // The held requests' safety net: one read for all of them (see pollWaiting).
      // With wake-ups off (the benchmark's stand-in for the seed design) it is the waiters' only news: 1 s.
      this.every(
        this.events.wakeups ? WAITERS_POLL_MS : 1_000,
        () => pollWaiting(this.store.jobs, this.events),
        "queue.waiters",
      );
      this.every(LEFTOVERS_MS, () => this.queue.reclaimLeftovers(LEFTOVER_AGE_MS), "queue.leftovers");
      this.every(MEDIA_WATCH_MS, () => this.watchMedia(), "media.watch");
      // The statistics' hourly rollup, kept filled (an admin page would otherwise fill it first).
      this.every(STATS_ROLLUP_MS, () => this.store.jobs.warmStats(), "stats.rollup");
      // the targets can be set on the settings page at any time: the tick runs always and reads them
      this.every(this.config.notify.intervalSeconds * 1000, () => notifyTick(this), "notify.tick");
    }
    if (this.options.workers ?? true) this.workers.start();
  }

  /** One pass of crash recovery (see JobQueue.recover). */
  async sweep(): Promise<void> {
    await this.store.instances.markDeadOnHost(hostname(), this.instanceId, this.clock.now(), instanceGone);
    const now = this.clock.now();
    const judged = this.dbReachableSince !== null && Date.now() - this.dbReachableSince >= LEASE_TTL_MS;
    const lapsedBefore = judged ? new Date(now.getTime() - LEASE_TTL_MS) : null;
    await this.queue.recover(this.instanceId, lapsedBefore, OVERDUE_GRACE_MS);
  }

  /**
   * With a bucket: while its calls fail, probe it (so readiness, the banner and status follow it
   * back without waiting for traffic); while it answers, upload the results kept in the spool.
   */
  async watchMedia(): Promise<void> {
    const media = this.media;
    if (!(media instanceof SpooledMediaStore)) return;
    if (media.health().failingSince) await media.probe().catch(() => {});
    if (media.health().failingSince) return;
    await drainSpool({ jobs: this.store.jobs, media, log: this.log });
  }

  /** Shutdown began: refuse new ingests, and claim only jobs whose booth waits here. */
  drain(): void {
    this.draining = true;
    this.workers.drain();
  }

  /** Records where this instance listens; a registered instance shows it at once. */
  async setAddress(address: string): Promise<void> {
    this.address = address;
    if (this.registered) await this.heartbeat();
  }

  /** Registers (or refreshes) this instance in the registry: version, address, jobs in flight. */
  private async heartbeat(): Promise<void> {
    const me = {
      id: this.instanceId,
      hostname: hostname(),
      pid: process.pid,
      version: VERSION,
      address: this.address,
      jobsInFlight: this.workers.inFlight,
    };
    await this.store.instances.upsert(me, this.clock.now());
  }

  every(ms: number, fn: () => Promise<unknown>, name: string): void {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        await fn();
      } catch (err) {
        this.log.error(`${name}.failed`, { error: err });
      } finally {
        busy = false;
      }
    }, ms);
    this.timers.push(timer);
  }

  /**
   * Stops the workers — provider calls in flight may finish for up to `graceMs`, then their jobs are
   * released back to `pending` — the timers and the listener, marks the instance stopped (its
   * leases are then dead for everyone at once) and closes the database.
   */
  async stop(graceMs = 0): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.draining = true;
    await this.workers.stop(graceMs);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const l of this.listeners) await l.unlisten();
    this.listeners = [];
    await this.store.instances.stop(this.instanceId, this.clock.now()).catch(() => {});
    instancesHere.delete(this.instanceId);
    await this.store.close();
    await this.embedded?.stop();
  }
}

/** Instances running in this process (tests run several; production one). */
const instancesHere = new Set<string>();

/**
 * Whether a registered instance on this host is gone: its pid is not alive, or it is our own pid
 * but not one of ours (a predecessor in a restarted container, where pids repeat).
 */
function instanceGone(i: { id: string; pid: number }): boolean {
  if (i.pid === process.pid) return !instancesHere.has(i.id);
  try {
    process.kill(i.pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code !== "EPERM";
  }
}

export const INITIAL_CREDENTIALS_FILE = "initial-credentials.txt";

/** Writes the first-start passwords to `<data dir>/initial-credentials.txt` (0600, replaced whole). */
export function writeInitialCredentials(dataDir: string, lines: string[]): string {
  const file = join(dataDir, INITIAL_CREDENTIALS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  mkdirSync(dataDir, { recursive: true });
  const text = [...lines, "Delete this file once the passwords are stored somewhere safe.", ""].join("\n");
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

/**
 * The passwords go to stdout only when it is a terminal (someone started the server by hand);
 * under systemd stdout is the journal, so only the file's location is printed there.
 */
function announceToTerminal(lines: string[], file: string): void {
  if (process.stdout.isTTY) console.log(lines.join("\n"));
  else console.log(`PhotoChanger first start: the admin and ingest passwords are in ${file} (mode 0600)`);
}

export function firstStartLines(s: FirstStartSecrets): string[] {
  const lines = ["", "==== PhotoChanger first start: these passwords are shown only once ===="];
  for (const a of s.admins) lines.push(`  admin ${a.username.padEnd(5)} password: ${a.password}`);
  if (s.ingestPassword) lines.push(`  booth ingest password:  ${s.ingestPassword}`);
  lines.push("  Change them with: photochanger admin set-password <user> / photochanger rotate-password");
  lines.push("=======================================================================", "");
  return lines;
}
