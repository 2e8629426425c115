/** The `instance` table: live server processes (pending jobs of a dead instance are orphans). */
import type { Sql } from "../db/client";

export interface InstanceInfo {
  id: string;
  hostname: string;
  pid: number;
  version: string;
  /** host:port the instance listens on, once it does. */
  address: string | null;
  /** Jobs its workers were running at the last heartbeat. */
  jobsInFlight: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt: Date | null;
  /** Not stopped, and its heartbeat younger than the TTL asked for (database time). */
  live: boolean;
}

export class InstanceStore {
  constructor(private readonly sql: Sql) {}

  /** Registers this process and refreshes its heartbeat, address and jobs in flight. */
  async upsert(
    i: {
      id: string;
      hostname: string;
      pid: number;
      version: string;
      address?: string | null;
      jobsInFlight?: number;
    },
    now: Date,
  ): Promise<void> {
    const address = i.address ?? null;
    const jobsInFlight = i.jobsInFlight ?? 0;
    await this.sql`
      insert into instance (id, hostname, pid, version, address, jobs_in_flight, started_at, heartbeat_at)
      values (${i.id}, ${i.hostname}, ${i.pid}, ${i.version}, ${address}, ${jobsInFlight}, ${now}, ${now})
      on conflict (id) do update set heartbeat_at = excluded.heartbeat_at, stopped_at = null,
        address = excluded.address, jobs_in_flight = excluded.jobs_in_flight`;
  }

  async stop(id: string, now: Date): Promise<void> {
    await this.sql`
      update instance set stopped_at = ${now}, heartbeat_at = ${now}, jobs_in_flight = 0 where id = ${id}`;
  }

  /** Instances that have not stopped and whose heartbeat is younger than `ttlMs` (database time). */
  async countLive(ttlMs: number): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`
      select count(*)::int as n from instance
      where stopped_at is null and heartbeat_at >= now() - ${`${ttlMs} milliseconds`}::interval`;
    return row?.n ?? 0;
  }

  /**
   * The registry: every live instance, and those that stopped or went silent within `recentMs` (a
   * rolling upgrade shows the old process leaving), live first, newest first.
   */
  list(liveTtlMs: number, recentMs: number): Promise<InstanceInfo[]> {
    const ttl = `${liveTtlMs} milliseconds`;
    return this.sql<InstanceInfo[]>`
      select id, hostname, pid, version, address, jobs_in_flight as "jobsInFlight",
             started_at as "startedAt", heartbeat_at as "heartbeatAt", stopped_at as "stoppedAt",
             (stopped_at is null and heartbeat_at >= now() - ${ttl}::interval) as live
      from instance
      where (stopped_at is null and heartbeat_at >= now() - ${ttl}::interval)
         or heartbeat_at >= now() - ${`${recentMs} milliseconds`}::interval
      order by live desc, started_at desc`.then((rows) => [...rows]);
  }

  /**
   * Marks as stopped the registered instances on this host whose process is gone (`isDead` judges
   * by pid). Their leases are dead at once: a restart recovers its predecessor's work immediately.
   */
  async markDeadOnHost(
    host: string,
    me: string,
    now: Date,
    isDead: (i: { id: string; pid: number }) => boolean,
  ): Promise<string[]> {
    const rows = await this.sql<{ id: string; pid: number }[]>`
      select id::text, pid from instance where hostname = ${host} and stopped_at is null and id <> ${me}`;
    const dead = rows.filter(isDead).map((r) => r.id);
    if (dead.length) {
      await this.sql`update instance set stopped_at = ${now} where id = any(${this.sql.array(dead)}::uuid[])`;
    }
    return dead;
  }
}
