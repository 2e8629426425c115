/** The `instance` table: live server processes (pending jobs of a dead instance are orphans). */
import type { Sql } from "../db/client";

export class InstanceStore {
  constructor(private readonly sql: Sql) {}

  /** Registers this process and refreshes its heartbeat. */
  async upsert(i: { id: string; hostname: string; pid: number; version: string }, now: Date): Promise<void> {
    await this.sql`
      insert into instance (id, hostname, pid, version, started_at, heartbeat_at)
      values (${i.id}, ${i.hostname}, ${i.pid}, ${i.version}, ${now}, ${now})
      on conflict (id) do update set heartbeat_at = excluded.heartbeat_at, stopped_at = null`;
  }

  async stop(id: string, now: Date): Promise<void> {
    await this.sql`update instance set stopped_at = ${now}, heartbeat_at = ${now} where id = ${id}`;
  }

  /** Instances that have not stopped and whose heartbeat is younger than `ttlMs` (database time). */
  async countLive(ttlMs: number): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`
      select count(*)::int as n from instance
      where stopped_at is null and heartbeat_at >= now() - ${`${ttlMs} milliseconds`}::interval`;
    return row?.n ?? 0;
  }
}
