/**
 * The schema the migrations build, compared with a committed snapshot (as graphile-worker does with
 * its schema dump): a migration that changes more, or less, than its author meant shows up here as
 * a diff to read. After an intended change: `UPDATE_SCHEMA_SNAPSHOT=1 bun run test test/schema-snapshot.test.ts`.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { freshDatabase } from "./helpers/app";

const SNAPSHOT = join(import.meta.dir, "fixtures", "schema.txt");

async function describeSchema(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const columns = await sql<{ line: string }[]>`
      select format('column %s.%s %s%s%s', table_name, column_name, data_type,
          case when is_nullable = 'NO' then ' not null' else '' end,
          coalesce(' default ' || column_default, '')) as line
      from information_schema.columns
      where table_schema = 'public' and table_name not like '\\_\\_%'
      order by table_name, column_name`;
    const indexes = await sql<{ line: string }[]>`
      select 'index ' || indexdef as line from pg_indexes
      where schemaname = 'public' order by tablename, indexname`;
    const constraints = await sql<{ line: string }[]>`
      select format('constraint %s.%s %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) as line
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where n.nspname = 'public' and c.contype <> 'n'
      order by c.conrelid::regclass::text, c.conname`;
    const functions = await sql<{ line: string }[]>`
      select format('function %s(%s) returns %s', p.proname, pg_get_function_arguments(p.oid),
          pg_get_function_result(p.oid)) as line
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' order by p.proname`;
    return `${[...columns, ...indexes, ...constraints, ...functions].map((r) => r.line).join("\n")}\n`;
  } finally {
    await sql.end();
  }
}

test("the migrated schema matches test/fixtures/schema.txt", async () => {
  const actual = await describeSchema(await freshDatabase());
  if (process.env.UPDATE_SCHEMA_SNAPSHOT === "1" || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, actual);
  expect(actual).toBe(readFileSync(SNAPSHOT, "utf8"));
});
