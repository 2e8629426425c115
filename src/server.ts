/**
 * `photochanger serve`: runtime + HTTP server + the cleaner, and the graceful shutdown. The HTTP
 * server listens with Bun's idle timeout above the ingest deadline.
 *
 * On SIGTERM/SIGINT the instance drains: it keeps listening, but new ingests answer 503
 * `service_unavailable` and /readyz 503, so a load balancer moves the booths elsewhere; the workers
 * stop claiming other work but still take the jobs whose booth request is held here; every held
 * request is answered — its result, or its 504 at the deadline. Then the provider calls still
 * running may finish (each bounded by its job's deadline), all within STOP_GRACE_SECONDS; work
 * still unfinished then goes back to `pending` for another instance or the next start. Only then
 * does the server stop listening, the cleaner stop, the pool close and an embedded PostgreSQL
 * stop. A second signal exits at once (its jobs are re-queued by the next start, or by another
 * instance once their lease lapses).
 */
import { hostname } from "node:os";
import { createApp } from "./app";
import type { Config } from "./config";
import { type Cleaner, startCleaner } from "./cron/scheduler";
import { Runtime, type RuntimeOptions } from "./runtime";
import type { Services } from "./services";
import { VERSION } from "./version";

/** Above the largest T_sync (60 s) so a held booth request is never cut by Bun's idle timer. */
export const IDLE_TIMEOUT_S = 90;
/** Bun refuses larger bodies itself; the slot limit (≤ 50 MB) is enforced by the ingest route. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * TLS 1.2 limited to forward-secret AEAD suites (Mozilla's "intermediate" list without DHE): no
 * static-RSA key exchange, no CBC/SHA-1. TLS 1.3 keeps its own (all AEAD) suites.
 */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export function listen(
  services: Services,
  config: Pick<Config, "host" | "port"> & Partial<Pick<Config, "tls">>,
) {
  const app = createApp(services).listen({
    hostname: config.host,
    port: config.port,
    idleTimeout: IDLE_TIMEOUT_S,
    maxRequestBodySize: MAX_BODY_BYTES,
    development: false,
    // Native HTTPS (TLS_CERT_FILE/TLS_KEY_FILE); otherwise plain HTTP, e.g. behind a TLS proxy.
    ...(config.tls
      ? {
          tls: {
            cert: Bun.file(config.tls.certFile),
            key: Bun.file(config.tls.keyFile),
            ciphers: TLS12_CIPHERS,
          },
        }
      : {}),
  });
  return app;
}

/**
 * The whole shutdown is bounded: the drain and the workers' grace take at most STOP_GRACE_SECONDS
 * (default 75 s, above T_sync), and closing takes seconds. systemd's TimeoutStopSec (install.sh:
 * 90 s) sits above this limit, at which the process exits anyway.
 */
export const SHUTDOWN_LIMIT_MS = 85_000;
const DRAIN_POLL_MS = 100;

export interface RunningServer {
  runtime: Runtime;
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
  // performance.now() counts from the process's start: where a cold start goes (LOG_LEVEL=debug).
  const phase = (name: string) =>
    runtime.log.debug("startup.phase", { phase: name, ms: Math.round(performance.now()) });
  const entered = Math.round(performance.now()); // the code is loaded, the config read
  const runtime = await Runtime.create(config, options);
  runtime.log.debug("startup.phase", { phase: "loaded", ms: entered });
  phase("runtime");
  let app: ReturnType<typeof listen>;
  let cleaner: Cleaner | null = null;
  try {
    await runtime.bootstrap();
    phase("bootstrap");
    await runtime.start();
    phase("start");
    app = listen(runtime, config);
    phase("listen");
    if (options.cleaner ?? true) cleaner = startCleaner(runtime);
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  const port = app.server!.port as number;
  const scheme = config.tls ? "https" : "http";
  const url = `${scheme}://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  // What the registry shows: the host name when listening on every interface, else the bound host.
  const host = config.host === "0.0.0.0" || config.host === "::" ? hostname() : config.host;
  await runtime
    .setAddress(`${host}:${port}`)
    .catch((err) => runtime.log.warn("instance.heartbeat.failed", { error: err }));
  runtime.log.info("server.listening", {
    version: VERSION,
    url: `${scheme}://${config.host}:${port}`,
    workers: config.workerCount,
  });

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const started = performance.now();
      const graceMs = config.stopGraceSeconds * 1000;
      const elapsed = () => performance.now() - started;
      runtime.log.info("server.stopping", { reason, held_requests: runtime.heldRequests, grace_ms: graceMs });
      runtime.drain();
      // Still listening: held requests get their answers, new ingests their 503.
      while (runtime.heldRequests > 0 && elapsed() < graceMs) await Bun.sleep(DRAIN_POLL_MS);
      runtime.log.info("server.drained", { ms: Math.round(elapsed()), held_requests: runtime.heldRequests });
      await runtime.workers.stop(Math.max(0, graceMs - elapsed()));
      await app.stop(false);
      await cleaner?.stop();
      await runtime.stop();
      runtime.log.info("server.stopped", { reason, ms: Math.round(elapsed()) });
    })();
    return stopping;
  };

  return { runtime, url, port, cleaner, shutdown };
}

/**
 * Wires SIGTERM/SIGINT to the graceful shutdown, exiting 0 when it completes. A second signal, or a
 * shutdown that overruns SHUTDOWN_LIMIT_MS, exits 1 at once (jobs left behind are re-queued by the
 * next start on this host, or by another instance's sweeper once their lease lapses).
 */
export function exitOnSignals(server: RunningServer): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      server.runtime.log.warn("server.forced_exit", { signal });
      process.exit(1);
    }
    const overrun = setTimeout(() => {
      server.runtime.log.error("server.shutdown_overrun", { limit_ms: SHUTDOWN_LIMIT_MS });
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    overrun.unref();
    server.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        server.runtime.log.error("server.shutdown_failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
