import { createHash } from "node:crypto";
import type { MigrationMeta } from "drizzle-orm/migrator";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { migrationJournal, migrationSql } from "./migrations.gen";

/** The migrations compiled into this build, in the shape drizzle's migrator expects. */
export function embeddedMigrations(): MigrationMeta[] {
  return migrationJournal.entries.map((entry) => {
    const text = migrationSql[entry.tag];
    if (text === undefined) throw new Error(`migration ${entry.tag} is missing from the build`);
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash("sha256").update(text).digest("hex"),
    };
  });
}

/**
 * Applies pending migrations under an advisory lock, so several instances starting at once on one
 * database migrate exactly once. Returns how many were applied.
 */
export async function runMigrations(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    // The usual start: every migration of this build is recorded already — one read, no lock and
    // none of drizzle's CREATE … IF NOT EXISTS statements (a noticeable part of a cold start).
    if (await upToDate(sql)) return 0;
    const db = drizzle(sql);
    await sql`select pg_advisory_lock(hashtext('photochanger.migrate'))`;
    try {
      const before = await appliedCount(sql);
      // What drizzle-orm/postgres-js/migrator does after reading files from disk (internal API).
      const internals = db as unknown as {
        dialect: { migrate(m: MigrationMeta[], session: unknown, cfg: object): Promise<void> };
        session: unknown;
      };
      await internals.dialect.migrate(embeddedMigrations(), internals.session, {
        migrationsSchema: "drizzle",
      });
      return (await appliedCount(sql)) - before;
    } finally {
      await sql`select pg_advisory_unlock(hashtext('photochanger.migrate'))`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Whether the database has recorded exactly this build's migrations, the last one included. */
async function upToDate(sql: postgres.Sql): Promise<boolean> {
  const entries = migrationJournal.entries;
  const last = entries[entries.length - 1];
  if (!last) return true;
  const [row] = await sql<{ n: number; last: string | null }[]>`
    select count(*)::int as n, max(created_at)::text as last from drizzle.__drizzle_migrations
    where to_regclass('drizzle.__drizzle_migrations') is not null`.catch(() => []);
  return row?.n === entries.length && row.last === String(last.when);
}

/** How many migrations the database has recorded (0 when it was never migrated). */
export async function appliedCount(sql: postgres.Sql): Promise<number> {
  const [exists] = await sql<
    { t: string | null }[]
  >`select to_regclass('drizzle.__drizzle_migrations')::text as t`;
  if (!exists?.t) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}
