/**
 * The services the process is made of, as the HTTP modules see them. A module takes `Services`
 * and hands each service function only what it declares (`Pick<Services, "store" | "clock">`…),
 * so a function's signature says what it touches. There is no database handle here: SQL lives
 * behind `store`.
 */
import type { Config } from "./config";
import type { Purges } from "./cron/cleanup";
import type { Clock } from "./lib/clock";
import type { Logger } from "./lib/log";
import type { MediaObjects } from "./media/objects";
import type { MediaStore } from "./media/storage";
import type { TemplateStore } from "./media/templates";
import type { Metrics } from "./metrics";
import type { ProviderRegistry } from "./providers/catalogue";
import type { JobEvents } from "./queue/events";
import type { JobQueue } from "./queue/index";
import type { QuotaService } from "./quota/service";
import type { SettingsService } from "./settings/service";
import type { Store } from "./store/index";
import type { WorkerPool } from "./worker/pool";

export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: SettingsService;
  readonly providers: ProviderRegistry;
  readonly media: MediaStore;
  readonly objects: MediaObjects;
  readonly templates: TemplateStore;
  readonly queue: JobQueue;
  readonly events: JobEvents;
  readonly workers: Pick<WorkerPool, "inFlight">;
  readonly metrics: Metrics;
  readonly purges: Purges;
  readonly quota: QuotaService;
  /** This process, as registered in `instance` (pending jobs belong to the instance waiting on them). */
  readonly instanceId: string;
  /** True once shutdown began: new ingests are refused, held ones are still answered. */
  readonly draining: boolean;
  /** Booth requests accepted and held here, waiting for their job (the drain waits for them). */
  heldRequests: number;
}
