/** Reading back what an ingest did: the job row, its processing log, and slot templates. */
import { createHash } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { job, processingLog } from "../../src/db/schema";
import { sniffImage } from "../../src/media/images";
import type { TestApp } from "./app";

/**
 * The job behind an ingest response, with its processing log. The booth is answered only after the
 * job's finalization is complete (final log row written, payload removed), so one read suffices.
 */
export async function jobOf(app: TestApp, res: Response) {
  const id = res.headers.get("x-job-id");
  if (!id) throw new Error(`response ${res.status} has no X-Job-Id`);
  const [row] = await app.db.select().from(job).where(eq(job.id, id));
  const log = await app.db
    .select()
    .from(processingLog)
    .where(eq(processingLog.jobId, id))
    .orderBy(asc(processingLog.id));
  return { row: row!, log, events: log.map((l) => l.event) };
}

/** Binds a template image to a slot by role, as the admin's upload does. */
export async function addTemplate(app: TestApp, slotId: string, role: string, bytes: Uint8Array) {
  const format = sniffImage(bytes)!;
  return app.runtime.templates.add({
    slotId,
    role,
    bytes,
    mime: `image/${format}`,
    format,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    filename: `${role}.${format}`,
    width: null,
    height: null,
    uploadedBy: "test",
    now: new Date(),
  });
}

export async function sizeOf(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const m = await new Bun.Image(bytes).metadata();
  return { width: m.width, height: m.height };
}

/** The error envelope of a failed ingest. */
export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const body = (await res.json()) as {
    error: { code: string; message: string; details: Record<string, unknown> };
  };
  return body.error;
}
