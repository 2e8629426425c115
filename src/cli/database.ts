/**
 * The database an operator tool works on, without migrating it: DATABASE_URL, or the embedded
 * PostgreSQL under the data dir — started as the server starts it when it is not running (and
 * stopped again afterwards), reused as it is when the server has it running.
 */
import type { Config } from "../config";
import { startEmbeddedPostgres } from "../db/embedded";
import type { Logger } from "../lib/log";

export interface ToolDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function openToolDatabase(config: Config, log: Logger): Promise<ToolDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const pg = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log);
  return { url: pg.url, embedded: true, stop: pg.stop };
}
