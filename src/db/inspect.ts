/**
 * What the operator tools (backup, restore, `migrate --check`) need to know about a database
 * before they touch it, read without migrating it: the server's version, which of this build's
 * migrations it has recorded, and whether it holds anything at all.
 */
import postgres from "postgres";
import { migrationJournal } from "./migrations.gen";

export interface MigrationState {
  /** Migrations recorded in the database. */
  applied: number;
  /** The `when` of the newest recorded migration (drizzle's created_at), or null for none. */
  lastWhen: number | null;
  /** Its tag, when this build knows it (a newer build's migration has none here). */
  lastTag: string | null;
}

export interface DatabaseFacts {
  /** e.g. 150020 for 15.20, 180004 for 18.4 */
  serverVersionNum: number;
  serverVersion: string;
  migrations: MigrationState;
  /** Tables in the public schema, and those of them holding rows. */
  tables: number;
  tablesWithRows: string[];
}

/** The migrations built into this binary, oldest first. */
export function knownMigrations(): { tag: string; when: number }[] {
  return migrationJournal.entries.map((e) => ({ tag: e.tag, when: e.when }));
}

export function migrationTag(when: number | null): string | null {
  if (when === null) return null;
  return knownMigrations().find((m) => m.when === when)?.tag ?? null;
}

/**
 * How a recorded schema compares with this binary's: `same`, `older` (migrations to apply),
 * `newer` (recorded migrations this binary does not know: a newer version ran here).
 */
export function compareSchema(
  state: Pick<MigrationState, "applied" | "lastWhen">,
): "same" | "older" | "newer" {
  const known = knownMigrations();
  const last = known.at(-1)?.when ?? null;
  if (state.applied > known.length) return "newer";
  if (state.lastWhen !== null && (last === null || state.lastWhen > last)) return "newer";
  if (state.lastWhen !== null && !known.some((m) => m.when === state.lastWhen)) return "newer";
  return state.applied === known.length && state.lastWhen === last ? "same" : "older";
}

export async function inspectDatabase(url: string): Promise<DatabaseFacts> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [v] = await sql<{ num: string; text: string }[]>`
      select current_setting('server_version_num') as num, current_setting('server_version') as text`;
    const [m] = await sql<{ n: number; last: string | null }[]>`
      select count(*)::int as n, max(created_at)::text as last from drizzle.__drizzle_migrations
      where to_regclass('drizzle.__drizzle_migrations') is not null`.catch(() => [{ n: 0, last: null }]);
    const tables = await sql<{ name: string }[]>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`;
    const tablesWithRows: string[] = [];
    for (const t of tables) {
      const [row] = await sql<
        { any: boolean }[]
      >`select exists (select 1 from ${sql("public")}.${sql(t.name)}) as any`;
      if (row?.any) tablesWithRows.push(t.name);
    }
    const lastWhen = m?.last ? Number(m.last) : null;
    return {
      serverVersionNum: Number(v!.num),
      serverVersion: v!.text,
      migrations: { applied: m?.n ?? 0, lastWhen, lastTag: migrationTag(lastWhen) },
      tables: tables.length,
      tablesWithRows,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
