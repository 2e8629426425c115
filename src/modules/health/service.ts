/**
 * Liveness and readiness. Alive means the process answers; ready means a booth upload could be
 * accepted right now: the database answers, the media directory takes writes, the disk has room,
 * and the server is not shutting down.
 */
import type { MediaStore } from "../../media/storage";
import type { Store } from "../../store/index";

/** Below this much free space the server is not ready (an upload, its result and the database grow). */
export const READY_MIN_FREE_BYTES = 64 * 1024 * 1024;
const DB_CHECK_TIMEOUT_MS = 2000;

export interface CheckResult {
  ok: boolean;
  [detail: string]: unknown;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export async function checkDatabase(
  store: Pick<Store, "ping">,
  timeoutMs = DB_CHECK_TIMEOUT_MS,
): Promise<CheckResult> {
  const started = performance.now();
  try {
    await store.ping(timeoutMs);
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: shortError(err) };
  }
}

/** Probes running now, per store: readiness asked many times at once (several balancers) probes once. */
const probing = new WeakMap<MediaStore, Promise<CheckResult>>();

/**
 * Writes and removes a small object where results are written (the directory or the bucket). The
 * probe is bounded (a bucket that hangs fails it in about 2 s, less while it keeps failing), so a
 * load balancer hears "not ready" in time to move booths to an instance that can store.
 */
export function checkMediaWritable(media: MediaStore): Promise<CheckResult> {
  const running = probing.get(media);
  if (running) return running;
  const check = (async (): Promise<CheckResult> => {
    try {
      await media.probe();
      return { ok: true, backend: media.backend };
    } catch (err) {
      const since = media.health().failingSince;
      return {
        ok: false,
        backend: media.backend,
        error: shortError(err),
        ...(since ? { failing_since: since.toISOString() } : {}),
      };
    } finally {
      probing.delete(media);
    }
  })();
  probing.set(media, check);
  return check;
}

export async function checkDisk(
  media: MediaStore,
  minFreeBytes = READY_MIN_FREE_BYTES,
): Promise<CheckResult> {
  try {
    const { free, total } = await media.diskUsage();
    return { ok: free >= minFreeBytes, free_bytes: free, total_bytes: total, min_free_bytes: minFreeBytes };
  } catch (err) {
    return { ok: false, error: shortError(err) };
  }
}

export async function readiness(deps: {
  store: Pick<Store, "ping">;
  media: MediaStore;
  draining: boolean;
  minFreeBytes?: number;
}): Promise<Readiness> {
  const [database, media, disk] = await Promise.all([
    checkDatabase(deps.store),
    checkMediaWritable(deps.media),
    checkDisk(deps.media, deps.minFreeBytes),
  ]);
  const checks: Record<string, CheckResult> = {
    database,
    media,
    disk,
    accepting: { ok: !deps.draining, ...(deps.draining ? { reason: "shutting down" } : {}) },
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

function shortError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = (e?.message ?? String(err)).split("\n")[0]!.slice(0, 200);
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
