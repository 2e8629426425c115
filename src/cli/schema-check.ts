/**
 * `photochanger migrate --check`: how the database's schema compares with this binary's, without
 * changing it. install.sh --rollback asks the previous binary this before it is put back: a
 * database a newer version migrated may not work with it (then the pre-upgrade backup is offered).
 */
import type { Config } from "../config";
import { compareSchema, inspectDatabase, knownMigrations } from "../db/inspect";
import type { Logger } from "../lib/log";
import { VERSION } from "../version";
import { openToolDatabase } from "./database";

/** Exit codes of the check: 0 the same, 3 migrations pending, 4 the database is newer. */
export const SCHEMA_EXIT = { same: 0, older: 3, newer: 4 } as const;

export async function checkSchema(config: Config, log: Logger): Promise<{ code: number; message: string }> {
  const db = await openToolDatabase(config, log);
  try {
    const { migrations } = await inspectDatabase(db.url);
    const known = knownMigrations();
    const verdict = compareSchema(migrations);
    const last =
      migrations.lastTag ?? (migrations.lastWhen === null ? "none" : `unknown, ${migrations.lastWhen}`);
    const state = `${migrations.applied} migrations applied (last ${last}); photochanger ${VERSION} knows ${known.length} (last ${known.at(-1)?.tag ?? "none"})`;
    const message = {
      same: `database schema matches this binary: ${state}`,
      older: `database schema is older than this binary: ${state}; \`photochanger migrate\` (or the next start) applies the rest`,
      newer: `database schema is newer than this binary knows: ${state}. A later PhotoChanger migrated it: run that version, or restore a backup taken before the upgrade`,
    }[verdict];
    return { code: SCHEMA_EXIT[verdict], message };
  } finally {
    await db.stop();
  }
}
