/**
 * Helpers for the hostile-input suites: bodies a careless or malicious client might send, and the
 * "nothing was added" snapshot (rows that carry data, files under the data dir).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { TestApp } from "./app";

/** Rows that a refused request must not create. */
const DATA_TABLES = [
  "job",
  "processing_log",
  "media_object",
  "template_media",
  "admin_session",
  "share_link",
];

export interface Snapshot {
  rows: Record<string, number>;
  files: string[];
}

export async function snapshot(app: TestApp): Promise<Snapshot> {
  const rows: Record<string, number> = {};
  for (const t of DATA_TABLES) {
    const r = await app.db.execute(sql.raw(`select count(*)::int as n from ${t}`));
    rows[t] = Number((r as unknown as { n: number }[])[0]?.n ?? 0);
  }
  return { rows, files: listFiles(app.dataDir) };
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      try {
        if (statSync(p).isDirectory()) walk(p);
        else out.push(p.slice(dir.length));
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** A JPEG whose SOF header declares `width`×`height` with no image data to speak of (a "bomb"). */
export function jpegBomb(width: number, height: number): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3];
  for (let c = 1; c <= 3; c++) sof.push(c, 0x11, 0);
  const dqt = [0xff, 0xdb, 0, 67, 0, ...Array(64).fill(1)];
  const dht = [0xff, 0xc4, 0, 20, 0, 1, ...Array(15).fill(0), 0];
  const sos = [0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 63, 0];
  const data = Array(300).fill(0);
  return new Uint8Array([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, ...data, 0xff, 0xd9]);
}

/** A PNG signature and IHDR declaring `width`×`height`, then nothing decodable. */
export function pngBomb(width: number, height: number): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 0);
  b.set(new TextEncoder().encode("IHDR"), 12);
  const v = new DataView(b.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  b.set([8, 2, 0, 0, 0], 24);
  return b;
}

/** A WebP (VP8X) header declaring `width`×`height`. */
export function webpBomb(width: number, height: number): Uint8Array {
  const b = new Uint8Array(64);
  const enc = new TextEncoder();
  b.set(enc.encode("RIFF"), 0);
  new DataView(b.buffer).setUint32(4, 56, true);
  b.set(enc.encode("WEBPVP8X"), 8);
  new DataView(b.buffer).setUint32(16, 10, true);
  const w = width - 1;
  const h = height - 1;
  b.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 24);
  return b;
}

/** A multipart body written by hand (so it can be wrong in exactly the way a test wants). */
export function rawMultipart(
  boundary: string,
  parts: { name: string; filename?: string; type?: string; body: Uint8Array | string; headers?: string }[],
  close = true,
): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += "\r\n";
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    if (p.headers) head += p.headers;
    head += "\r\n";
    chunks.push(enc.encode(head));
    chunks.push(typeof p.body === "string" ? enc.encode(p.body) : p.body);
    chunks.push(enc.encode("\r\n"));
  }
  if (close) chunks.push(enc.encode(`--${boundary}--\r\n`));
  return new Uint8Array(Buffer.concat(chunks));
}

/** A request body that arrives in pieces with no Content-Length (chunked transfer encoding). */
export function chunkedBody(bytes: Uint8Array, pieces = 4): ReadableStream<Uint8Array> {
  const size = Math.ceil(bytes.length / pieces);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
