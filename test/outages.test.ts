import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { job } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { dslrForm, eventually, freshDatabase, json, postIngest, startTestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

describe("outages", () => {
  test("database unreachable → 503 service_unavailable", async () => {
    const app = await startTestApp({ workers: false });
    try {
      await app.runtime.store.close();
      const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg()));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect((await json(res)).error.code).toBe("service_unavailable");
    } finally {
      await app.stop().catch(() => {});
    }
  });

  test("the database gone for the whole wait → 504 sync_timeout with the job id, never a 500", async () => {
    // The job is accepted, then every read the waiter tries fails until the deadline and its grace:
    // the booth learns the deadline passed without a confirmed outcome, and which job it was.
    const clock = new ManualClock();
    const app = await startTestApp({ clock });
    try {
      await app.configureSlot("slot-001", {
        provider: "local",
        operation: "passthrough",
        settings: { simulate_delay_ms: 30_000 },
      });
      await app.setSyncSeconds(10);
      const answer = postIngest(app, "slot-001", dslrForm(await makeJpeg()));
      // Accepted and waiting (a queued hint alone could be the listener's connect, before the insert).
      await eventually(async () => app.runtime.events.waitingJobIds().length > 0);
      await app.runtime.store.close();
      clock.advance(10_000 + 3_000 + 1);
      const res = await answer;
      expect(res.status).toBe(504);
      const body = await json(res);
      expect(body.error.code).toBe("sync_timeout");
      expect(body.error.details.job_id).toBe(res.headers.get("x-job-id"));
      expect(String(body.error.details.job_id)).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await app.stop().catch(() => {});
    }
  });

  test("media disk full → 507 insufficient_storage, no job and no file", async () => {
    // A 4 MB tmpfs as the media root: less free space than an upload needs (needs root to mount).
    expect(process.getuid?.()).toBe(0);
    const mediaRoot = mkdtempSync(join(tmpdir(), "photochanger-full-"));
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mediaRoot]);
    expect(mounted.status).toBe(0);
    const app = await startTestApp({ env: { MEDIA_ROOT: mediaRoot } });
    try {
      await app.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
      const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg()));
      expect(res.status).toBe(507);
      expect((await json(res)).error.code).toBe("insufficient_storage");
      expect(await app.db.select().from(job)).toHaveLength(0);
      expect(await app.runtime.media.list("payloads")).toHaveLength(0);
    } finally {
      await app.stop();
      spawnSync("umount", [mediaRoot]);
      rmSync(mediaRoot, { recursive: true, force: true });
    }
  });

  test("a booth that aborts its upload → `client_closed` at info level, not a 500 in the log or the metrics", async () => {
    const logLines: string[] = [];
    const app = await startTestApp({ workers: false, logLines });
    try {
      await app.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
      const port = new URL(app.url).port;
      // Half a multipart body, then the connection is closed.
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: Number(port),
        socket: { data() {} },
      });
      const boundary = "----abort";
      socket.write(
        `POST /ingest/slot-001 HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
          `Content-Length: 500000\r\n\r\n--${boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; ` +
          `filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n${"x".repeat(20_000)}`,
      );
      // The partial body has reached the server once the photo is being spooled (no password yet).
      const spool = `${app.dataDir}/spool`;
      await eventually(async () => existsSync(spool) && readdirSync(spool).length > 0, 5_000);
      socket.end();
      const refused = await eventually(async () => {
        const line = logLines.find((l) => l.includes('"ingest.refused"'));
        return line && (JSON.parse(line) as Record<string, unknown>);
      }, 5_000).catch(() => null);
      expect(refused).toMatchObject({ level: "info", outcome: "client_closed", status: 499 });
      expect(logLines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
      const metrics = await app.runtime.metrics.registry.metrics();
      expect(metrics).toMatch(/photochanger_ingest_requests_total\{[^}]*outcome="client_closed"[^}]*\} 1/);
      expect(metrics).not.toMatch(/outcome="internal_error"/);
      expect(await app.db.select().from(job)).toHaveLength(0);
    } finally {
      await app.stop();
    }
  });

  test("another process's finalization reaches this one by LISTEN/NOTIFY", async () => {
    const databaseUrl = await freshDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), "photochanger-notify-"));
    // A takes uploads but runs no workers; B runs the workers.
    const a = await startTestApp({ databaseUrl, dataDir, workers: false });
    const b = await startTestApp({ databaseUrl, dataDir, workers: true });
    try {
      // A short simulated delay leaves time to subscribe before B finalizes.
      await a.configureSlot("slot-001", {
        provider: "local",
        operation: "passthrough",
        settings: { simulate_delay_ms: 700 },
      });
      const heard: string[] = [];
      const response = postIngest(a, "slot-001", dslrForm(await makeJpeg()));
      const [row] = await eventually(async () => {
        const rows = await a.db.select().from(job);
        return rows.length > 0 && rows;
      });
      // A's in-process events only fire from NOTIFY here: A never finalizes this job itself.
      const woken = new Promise<void>((resolve) => a.runtime.events.onFinalized(row!.id, () => resolve()));
      await woken;
      heard.push(row!.id);
      const res = await response;
      expect(res.status).toBe(200);
      expect(heard).toEqual([res.headers.get("x-job-id")!]);
      const final = await a.runtime.queue.get(row!.id);
      expect(final!.leaseOwner!.startsWith(b.runtime.instanceId)).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("how a finished job answers the booth", () => {
  test("cancelled while held → 503 job_cancelled, and the provider call is abandoned", async () => {
    const app = await startTestApp();
    try {
      await app.configureSlot("slot-001", {
        provider: "local",
        operation: "greyscale",
        settings: { simulate_delay_ms: 3000 },
      });
      const response = postIngest(app, "slot-001", dslrForm(await makeJpeg()));
      const processing = await eventually(async () => {
        const [r] = await app.db.select().from(job);
        return r?.status === "processing" && r;
      });
      expect((await app.runtime.queue.cancel(processing.id, "serg"))!.status).toBe("cancelled");
      const res = await response;
      expect(res.status).toBe(503);
      const body = await json(res);
      expect(body.error.code).toBe("job_cancelled");
      expect(body.error.details.job_id).toBe(processing.id);
      const row = await app.runtime.queue.get(processing.id);
      expect(row!.status).toBe("cancelled");
      expect(row!.resultPath).toBeNull();
    } finally {
      await app.stop();
    }
  });

  test("internal failures → 500 internal_error with a correlation id, details never leak; faults are not 500", async () => {
    const { outcomeError } = await import("../src/modules/ingest/outcome");
    const app = await startTestApp({ workers: false });
    try {
      const base = {
        id: "00000000-0000-4000-8000-000000000777",
        slotId: "slot-001",
        status: "failed",
        expiresAt: new Date(),
      } as never as import("../src/db/schema").JobRow;
      for (const failureReason of ["internal_error"] as const) {
        const err = outcomeError(app.runtime, {
          ...base,
          failureReason,
          errorMessage: "stack trace at db.ts:42",
        })!;
        expect(err.status).toBe(500);
        expect(err.code).toBe("internal_error");
        expect(err.details.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(err.message).not.toContain("db.ts");
      }
      // Faults are never a 500: work cut short by restarts → 503 (retry), a full disk → 507.
      const interrupted = outcomeError(app.runtime, {
        ...base,
        failureReason: "interrupted",
        errorMessage: "x",
      })!;
      expect([interrupted.status, interrupted.code, interrupted.details.job_id]).toEqual([
        503,
        "service_unavailable",
        base.id,
      ]);
      expect(interrupted.headers["Retry-After"]).toBe("5");
      const full = outcomeError(app.runtime, { ...base, failureReason: "storage_full", errorMessage: "x" })!;
      expect([full.status, full.code]).toEqual([507, "insufficient_storage"]);
      const blocked = outcomeError(app.runtime, {
        ...base,
        failureReason: "provider_blocked",
        errorMessage: "x",
      })!;
      expect([blocked.status, blocked.code]).toEqual([422, "provider_blocked"]);
      const provider = outcomeError(app.runtime, {
        ...base,
        failureReason: "provider_error",
        errorMessage: "x",
      })!;
      expect([provider.status, provider.code]).toEqual([502, "provider_error"]);
    } finally {
      await app.stop();
    }
  });
});
