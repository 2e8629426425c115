/**
 * `photochanger serve`: runtime + HTTP server + the cleaner, and the graceful shutdown.
 *
 * On SIGTERM/SIGINT: refuse new work (ingest answers 503, /readyz 503) and stop listening; every
 * held booth request is still answered — its result, or its 504 at the deadline — while the
 * workers keep processing; then the workers stop after their current step (a provider call still
 * in flight is finalized as `interrupted`, releasing its lease), the cleaner stops, the pool
 * closes and an embedded PostgreSQL is stopped. A second signal exits at once.
 */
import { hostname } from "node:os";
import type { Config } from "./config";
import { type Cleaner, startCleaner } from "./cron/scheduler";
import { Runtime, type RuntimeOptions } from "./runtime";
import { listen } from "./server";
import { VERSION } from "./version";

/**
 * The whole shutdown is bounded: the longest hold is T_sync (≤ 60 s) plus the ingest hold margin.
 * systemd's TimeoutStopSec (install.sh: 90 s) sits above it.
 */
export const SHUTDOWN_LIMIT_MS = 85_000;

export interface RunningServer {
  rt: Runtime;
  url: string;
  port: number;
  cleaner: Cleaner | null;
  /** Graceful stop; resolves when everything is closed. Safe to call more than once. */
  shutdown(reason: string): Promise<void>;
}

export interface ServeOptions extends RuntimeOptions {
  /** Run the cleaner every 15 minutes and once at start (default true). */
  cleaner?: boolean;
}

export async function startServer(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  const rt = await Runtime.create(config, options);
  let app: ReturnType<typeof listen>;
  let cleaner: Cleaner | null = null;
  try {
    await rt.bootstrap();
    await rt.start();
    app = listen(rt, config);
    if (options.cleaner ?? true) cleaner = startCleaner(rt);
  } catch (err) {
    await rt.stop();
    throw err;
  }
  const port = app.server!.port as number;
  const scheme = config.tls ? "https" : "http";
  const url = `${scheme}://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  // What the registry shows: the host name when listening on every interface, else the bound host.
  const host = config.host === "0.0.0.0" || config.host === "::" ? hostname() : config.host;
  await rt
    .setAddress(`${host}:${port}`)
    .catch((err) => rt.log.warn("instance.heartbeat.failed", { error: err }));
  rt.log.info("server.listening", {
    version: VERSION,
    url: `${scheme}://${config.host}:${port}`,
    workers: config.workerCount,
  });

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const started = performance.now();
      rt.log.info("server.stopping", { reason, held_requests: app.server?.pendingRequests ?? 0 });
      rt.draining = true;
      // Stop listening; resolves once every in-flight request (held ingests included) is answered.
      await app.stop(false);
      rt.log.info("server.drained", { ms: Math.round(performance.now() - started) });
      await cleaner?.stop();
      await rt.stop();
      rt.log.info("server.stopped", { reason, ms: Math.round(performance.now() - started) });
    })();
    return stopping;
  };

  return { rt, url, port, cleaner, shutdown };
}

/**
 * Wires SIGTERM/SIGINT to the graceful shutdown, exiting 0 when it completes. A second signal, or a
 * shutdown that overruns SHUTDOWN_LIMIT_MS, exits 1 at once (jobs left behind are resolved as
 * `interrupted` by the next start or by another instance's sweeper).
 */
export function exitOnSignals(server: RunningServer): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      server.rt.log.warn("server.forced_exit", { signal });
      process.exit(1);
    }
    const overrun = setTimeout(() => {
      server.rt.log.error("server.shutdown_overrun", { limit_ms: SHUTDOWN_LIMIT_MS });
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    overrun.unref();
    server.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        server.rt.log.error("server.shutdown_failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
