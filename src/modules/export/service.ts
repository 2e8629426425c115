/**
 * An event's results in one download (SPEC §11): `GET /api/slots/{id}/export?from&to` streams a
 * ZIP of the slot's kept results — one file at a time, straight from the media store (local disk
 * or S3), never the whole archive in memory — and `index.csv` last: every finished job of the
 * range (failures too, without a file), its time, status, provider and the booth's fields.
 */

import { boxTimeZone } from "../../domain/calendar";
import { csvLine } from "../../lib/csv";
import { ZipWriter } from "../../lib/zip";
import type { Services } from "../../services";
import type { ExportRow } from "../../store/job-reads";
import { findSlot } from "../slots/service";
import { invalidRequest, parseTime } from "../stats/arithmetic";

/** Jobs one export lists at most (the index is built in memory; the files are streamed). */
export const EXPORT_MAX_JOBS = 50_000;

/** No `to`: everything up to now (no job is created later than now). */
const END_OF_TIME = new Date("9999-12-31T00:00:00Z");

export interface ExportQuery {
  from?: string;
  to?: string;
}

export interface SlotExport {
  filename: string;
  /** Jobs in the index, and the result files the archive will carry. */
  jobs: number;
  files: number;
  body: ReadableStream<Uint8Array>;
}

type ExportDeps = Pick<Services, "store" | "media" | "clock" | "log" | "settings">;

/** A result's name in the archive: sortable by time, unique by job id. */
function entryName(row: ExportRow): string {
  const stamp = row.createdAt.toISOString().slice(0, 19).replaceAll(":", "-");
  const ext = row.resultPath?.split(".").pop() ?? "bin";
  return `results/${stamp}Z_${row.id}.${ext}`;
}

/**
 * Checks the request (slot, range) before anything is sent — a bad one is a clear error, never a
 * broken download — then returns the archive as a stream.
 */
export async function exportSlot(
  services: ExportDeps,
  slotId: string,
  query: ExportQuery,
  by: string,
): Promise<SlotExport> {
  await findSlot(services, slotId);
  const tz = boxTimeZone();
  const now = services.clock.now();
  const from = query.from ? parseTime(query.from, tz, "from") : new Date(0);
  const to = query.to ? parseTime(query.to, tz, "to") : END_OF_TIME;
  if (from >= to) throw invalidRequest("from", '"from" must be before "to"');
  const rows = await services.store.jobs.exportRows({ slotId, from, to, now, limit: EXPORT_MAX_JOBS + 1 });
  if (rows.length > EXPORT_MAX_JOBS) {
    throw invalidRequest("from", `More than ${EXPORT_MAX_JOBS} jobs in the range: export a shorter one`);
  }
  const files = rows.filter((r) => r.resultPath).length;
  await services.settings.audit(by, "slot.exported", {
    slot_id: slotId,
    from: query.from ? from.toISOString() : null,
    to: query.to ? to.toISOString() : null,
    jobs: rows.length,
    files,
  });
  const day = now.toISOString().slice(0, 10);
  return {
    filename: `${slotId}-results-${day}.zip`,
    jobs: rows.length,
    files,
    body: pullStream(archive(services, slotId, rows, now)),
  };
}

async function* archive(
  services: ExportDeps,
  slotId: string,
  rows: ExportRow[],
  now: Date,
): AsyncGenerator<Uint8Array> {
  const zip = new ZipWriter();
  const stored = new Map<string, string>();
  try {
    for (const row of rows) {
      if (!row.resultPath) continue;
      // Looked up one at a time, as the download goes: a file the cleaner removed meanwhile is left
      // out (the index says so), never a reason to break the archive.
      const body = await services.media.body(row.resultPath);
      if (!body) continue;
      const name = entryName(row);
      yield* zip.file(name, row.finalizedAt ?? row.createdAt, body instanceof Blob ? body.stream() : body);
      stored.set(row.id, name);
    }
    yield* zip.file("index.csv", now, single(indexCsv(rows, stored)));
    yield* zip.finish();
    services.log.info("export.done", {
      slot: slotId,
      jobs: rows.length,
      files: stored.size,
      bytes: zip.bytesWritten,
    });
  } catch (err) {
    // The answer has started: the client sees a cut archive; the log says why.
    services.log.error("export.failed", { slot: slotId, bytes: zip.bytesWritten, error: err });
    throw err;
  }
}

/**
 * A byte stream that asks the generator for the next piece only when the client has taken the last
 * one (back-pressure: a slow download holds one chunk, not the archive); a client that goes away
 * ends the generator, which closes the file or S3 object being read.
 */
function pullStream(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await gen.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await gen.return(undefined);
    },
  });
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * The index: one row per job, the booth's fields as the last columns (every field any of the jobs
 * carried, in name order). `file` is the result's path in the archive, empty when there is none.
 */
export function indexCsv(rows: ExportRow[], stored: Map<string, string>): Uint8Array {
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r.clientMeta ?? {})))].sort();
  const fixed = [
    "job_id",
    "created_at",
    "finalized_at",
    "status",
    "failure_reason",
    "source",
    "provider",
    "file",
    "sha256",
  ];
  // a booth field named like a fixed column stays apart from it
  const header = [...fixed, ...fields.map((f) => (fixed.includes(f) ? `field_${f}` : f))];
  const lines = [csvLine(header)];
  for (const r of rows) {
    const file = stored.get(r.id) ?? "";
    lines.push(
      csvLine([
        r.id,
        r.createdAt.toISOString(),
        r.finalizedAt?.toISOString() ?? "",
        r.status,
        r.failureReason ?? "",
        r.source,
        r.provider,
        file,
        file ? (r.resultSha256 ?? "") : "",
        ...fields.map((f) => r.clientMeta?.[f] ?? ""),
      ]),
    );
  }
  // a byte-order mark, so spreadsheet programs read the guests' names as UTF-8
  return new TextEncoder().encode(`\uFEFF${lines.join("\r\n")}\r\n`);
}
