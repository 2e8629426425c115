/**
 * `photochanger media migrate --to s3|local`: copies every media object from one backend to the
 * other under the same key, so no database row changes. Each copy is verified — the source's
 * SHA-256 against the database row's (payloads, results, templates), then the copy read back from
 * the target against the source — and an object already in the target with the same bytes is left
 * alone, so a run can be repeated or resumed after an interruption at no risk. The source is only
 * deleted with --remove-source, and only after its copy verified.
 */
import { createHash } from "node:crypto";
import { extname } from "node:path";
import { MEDIA_KINDS, type MediaStore } from "./storage";

export interface MigrateReport {
  from: string;
  to: string;
  /** Objects written to the target by this run. */
  copied: number;
  /** Objects the target already held with the same bytes (an earlier run). */
  alreadyThere: number;
  bytesCopied: number;
  removedFromSource: number;
  /** Objects not copied, with why (the run exits non-zero). */
  failed: { path: string; reason: string }[];
  /** Objects the database still points at that are in neither backend. */
  missing: string[];
}

const MIME_BY_EXT: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
  ".heic": "image/heic",
};
const PARALLEL = 4;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export async function migrateMedia(options: {
  source: MediaStore;
  target: MediaStore;
  /** Key → SHA-256 recorded in the database (null: none recorded, e.g. thumbnails). */
  referenced: Map<string, string | null>;
  removeSource?: boolean;
  progress?: (line: string) => void;
}): Promise<MigrateReport> {
  const { source, target, referenced } = options;
  target.ensureLayout();
  const report: MigrateReport = {
    from: source.location,
    to: target.location,
    copied: 0,
    alreadyThere: 0,
    bytesCopied: 0,
    removedFromSource: 0,
    failed: [],
    missing: [],
  };
  const keys: string[] = [];
  for (const kind of MEDIA_KINDS) {
    for (const f of await source.list(kind)) {
      // Leftovers of interrupted local writes and readiness probes are not media.
      if (f.path.includes(".tmp-") || f.path.includes(".readyz-")) continue;
      keys.push(f.path);
    }
  }
  options.progress?.(`${keys.length} objects in ${source.location}`);

  const copyOne = async (key: string) => {
    let bytes: Uint8Array;
    try {
      bytes = await source.read(key);
    } catch (err) {
      // Deleted since the listing (a job finalized, the cleaner ran): nothing left to move.
      if ((await source.size(key)) === null) return;
      throw err;
    }
    const hash = sha256(bytes);
    const recorded = referenced.get(key);
    if (recorded && recorded !== hash) {
      report.failed.push({ path: key, reason: "the source's SHA-256 differs from the database's (damaged)" });
      return;
    }
    if ((await target.size(key)) === bytes.byteLength && sha256(await target.read(key)) === hash) {
      report.alreadyThere++;
    } else {
      await target.writeAtomic(key, bytes, { mime: MIME_BY_EXT[extname(key)] });
      if (sha256(await target.read(key)) !== hash) {
        report.failed.push({ path: key, reason: "the copy read back from the target differs" });
        return;
      }
      report.copied++;
      report.bytesCopied += bytes.byteLength;
    }
    if (options.removeSource) {
      await source.remove(key);
      report.removedFromSource++;
    }
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      try {
        await copyOne(key);
      } catch (err) {
        report.failed.push({ path: key, reason: (err as Error).message });
      }
      if (++done % 500 === 0) options.progress?.(`${done} of ${keys.length}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  // Everything the database points at must now be in the target (one listing, not a probe each).
  const inTarget = new Set<string>();
  for (const kind of MEDIA_KINDS) for (const f of await target.list(kind)) inTarget.add(f.path);
  for (const key of referenced.keys()) if (!inTarget.has(key)) report.missing.push(key);
  report.failed.sort((x, y) => x.path.localeCompare(y.path));
  report.missing.sort();
  return report;
}

export function formatMigrate(r: MigrateReport): string {
  const lines = [
    `media migrate: ${r.from} → ${r.to}`,
    `  copied and verified:   ${r.copied} (${r.bytesCopied} bytes)`,
    `  already in the target: ${r.alreadyThere}`,
  ];
  if (r.removedFromSource) lines.push(`  removed from source:   ${r.removedFromSource}`);
  for (const f of r.failed) lines.push(`  FAILED ${f.path}: ${f.reason}`);
  for (const m of r.missing)
    lines.push(`  MISSING ${m}: the database points at it, but it is in neither place`);
  lines.push(
    r.failed.length || r.missing.length
      ? "Not complete: fix the above and run the same command again (it resumes)."
      : "Complete: every object the database points at is in the target.",
  );
  return lines.join("\n");
}
