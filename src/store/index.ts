/**
 * The one door to PostgreSQL. Every statement the product runs is a named function of one of these
 * stores; nothing outside `src/store` (and `src/db`, which holds the client, the schema and the
 * migrations) imports drizzle-orm, postgres.js or the client — a Biome rule and
 * test/architecture.test.ts keep it so. One query style per table: the queue's tables (`job`,
 * `processing_log`, `instance`) are written with postgres.js, whose statements read like the SQL
 * you would EXPLAIN; every other table with drizzle.
 */

import { connectDatabase, type Database } from "../db/client";
import { appliedCount } from "../db/migrate";
import { type DatabaseWork, databaseWork } from "../db/watchdog";
import { type Clock, systemClock } from "../lib/clock";
import { type AttentionStore, openAttentionStore } from "./attention";
import { AttentionAckStore } from "./attention-acks";
import { AuditStore } from "./audit";
import { AuthStore } from "./auth";
import { CleanupRunStore, ShareLinkStore } from "./housekeeping";
import { InstanceStore } from "./instances";
import { type JobStore, openJobStore } from "./job-store";
import { MediaObjectStore, storedMediaRefs, TemplateRowStore } from "./media";
import { NotificationLogStore } from "./notifications";
import { PresetStore } from "./presets";
import { ProviderUsageStore } from "./provider-usage";
import { SettingsStore } from "./settings";
import { SlotStore } from "./slots";

export type { AuditRow } from "./audit";
export type { AdminUserRow } from "./auth";
export type { CleanupRunRow, ShareLinkRow } from "./housekeeping";
export type { JobListFilter, RecentResultRow, TimelineRow } from "./job-reads";
export type { AggregateRow, FailureRow, JobFilter, OutcomeCounts } from "./job-stats";
export type { ClaimRoom, FinalizedJob, FinalLog, InsertOutcome, LogEntry, ResultColumns } from "./job-store";
export type { SlotChanges } from "./slots";

/** After a connection was dropped for not answering, readiness stays down this long. */
const STALL_MEMORY_MS = 5_000;

export class Store {
  readonly jobs: JobStore;
  readonly instances: InstanceStore;
  readonly slots: SlotStore;
  readonly settings: SettingsStore;
  readonly auth: AuthStore;
  readonly audit: AuditStore;
  readonly mediaObjects: MediaObjectStore;
  readonly templates: TemplateRowStore;
  readonly cleanupRuns: CleanupRunStore;
  readonly shareLinks: ShareLinkStore;
  readonly attention: AttentionStore;
  readonly providerUsage: ProviderUsageStore;
  readonly presets: PresetStore;
  readonly notifications: NotificationLogStore;
  readonly attentionAcks: AttentionAckStore;

  private constructor(
    private readonly database: Database,
    clock: Pick<Clock, "now">,
  ) {
    const { sql, db, reports } = database;
    this.jobs = openJobStore(sql, reports.sql, clock);
    this.instances = new InstanceStore(sql);
    this.slots = new SlotStore(db, sql);
    this.settings = new SettingsStore(db, sql);
    this.auth = new AuthStore(db);
    this.audit = new AuditStore(db);
    this.mediaObjects = new MediaObjectStore(db);
    this.templates = new TemplateRowStore(db, this.slots);
    this.cleanupRuns = new CleanupRunStore(db, sql);
    this.shareLinks = new ShareLinkStore(db);
    this.attention = openAttentionStore(sql);
    this.providerUsage = new ProviderUsageStore(sql);
    this.presets = new PresetStore(db);
    this.notifications = new NotificationLogStore(db);
    this.attentionAcks = new AttentionAckStore(db);
  }

  /** `clock`: the app's (the statistics' rollup seals hours by its time); the system clock if none. */
  static open(url: string, options: { max?: number; clock?: Pick<Clock, "now"> } = {}): Store {
    const { clock = systemClock, ...pool } = options;
    return new Store(connectDatabase(url, pool), clock);
  }

  private answeredAt = 0;

  /**
   * True while a connection has been lost since the database last answered a guarded call (see
   * `answered`): the database may be down, so callers that must answer fast bound their wait.
   */
  suspect(): boolean {
    return this.database.lastLostAt() > this.answeredAt;
  }

  /** The statements this process has sent to PostgreSQL and the transactions it ended (see src/db/watchdog.ts). */
  databaseWork(): DatabaseWork {
    return databaseWork();
  }

  /** Opens a connection in each pool (see Database.warm); a database that is down is left to the callers. */
  async warm(): Promise<void> {
    await this.database.warm().catch(() => {});
  }

  /** A call went through: the database is answering. */
  answered(): void {
    this.answeredAt = Date.now();
  }

  /**
   * One round trip (readiness, `status`); rejects when the database does not answer in time, or
   * when a connection was dropped for not answering within the last STALL_MEMORY_MS: calls may be
   * hanging on connections that look open, even if this one went through.
   */
  async ping(timeoutMs = 2000): Promise<void> {
    const stalledAgo = performance.now() - this.database.lastStallAt();
    if (this.database.lastStallAt() > 0 && stalledAgo < STALL_MEMORY_MS) {
      throw new Error(`a database connection stopped answering ${(stalledAgo / 1000).toFixed(1)} s ago`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.database.sql`select 1`,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Media keys the database points at, with their recorded SHA-256 (for `media migrate`). */
  async referencedMedia(): Promise<Map<string, string | null>> {
    const [jobs, stored] = await Promise.all([
      this.jobs.jobMediaRefs(),
      storedMediaRefs(this.database.reports.db),
    ]);
    return new Map([...jobs, ...stored]);
  }

  /** How many migrations the database has recorded. */
  migrationsApplied(): Promise<number> {
    return appliedCount(this.database.sql);
  }

  close(): Promise<void> {
    return this.database.close();
  }
}
