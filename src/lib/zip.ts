/**
 * A streaming ZIP writer: entries are stored (method 0 — JPEG, PNG and WebP are compressed
 * already), each file's bytes pass through once, and only the central directory (a few dozen bytes
 * per entry) is kept in memory. The CRC-32 and the size of an entry are learnt while its bytes go
 * out, so they follow it in a data descriptor (general purpose bit 3), and names are UTF-8 (bit 11).
 * Archives past 4 GiB or 65,535 entries get the ZIP64 end records; one entry stays below 4 GiB.
 *
 * The format: PKWARE's APPNOTE.TXT (local file header 4.3.7, data descriptor 4.3.9, central
 * directory 4.3.12, ZIP64 4.3.14–4.3.15, end of central directory 4.3.16).
 */
import { crc32 } from "node:zlib";

const U32 = 0xffff_ffff;
const U16 = 0xffff;
const FLAGS = 0x0008 | 0x0800; // sizes in a data descriptor; UTF-8 names
const VERSION = 20; // 2.0: stored entries, data descriptors
const VERSION_ZIP64 = 45;
const UNIX = 3 << 8;
const FILE_MODE = 0o100644;

interface CentralEntry {
  name: Uint8Array;
  time: number;
  date: number;
  crc: number;
  size: number;
  offset: number;
}

/** MS-DOS date and time (local wall clock, 2-second steps, 1980–2107). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly names = new Set<string>();

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  /**
   * One stored file: its local header, its bytes as they come, then its data descriptor. Names
   * are relative POSIX paths; a repeated name is refused (unzip would ask which one to keep).
   */
  async *file(name: string, modified: Date, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    if (!name || name.startsWith("/") || name.split("/").includes("..") || name.includes("\\")) {
      throw new Error(`zip entry name "${name}" is not a relative path`);
    }
    if (this.names.has(name)) throw new Error(`zip entry "${name}" is already in the archive`);
    this.names.add(name);
    const nameBytes = new TextEncoder().encode(name);
    const { time, date } = dosDateTime(modified);
    const offset = this.offset;

    const header = new DataView(new ArrayBuffer(30));
    header.setUint32(0, 0x04034b50, true);
    header.setUint16(4, VERSION, true);
    header.setUint16(6, FLAGS, true);
    header.setUint16(8, 0, true); // stored
    header.setUint16(10, time, true);
    header.setUint16(12, date, true);
    // CRC-32 and sizes (14–25) stay 0: they follow in the data descriptor
    header.setUint16(26, nameBytes.byteLength, true);
    header.setUint16(28, 0, true);
    yield this.out(concat(new Uint8Array(header.buffer), nameBytes));

    let crc = 0;
    let size = 0;
    for await (const chunk of chunks) {
      if (!chunk.byteLength) continue;
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      if (size >= U32) throw new Error(`zip entry "${name}" is 4 GiB or more`);
      yield this.out(chunk);
    }

    const descriptor = new DataView(new ArrayBuffer(16));
    descriptor.setUint32(0, 0x08074b50, true);
    descriptor.setUint32(4, crc, true);
    descriptor.setUint32(8, size, true);
    descriptor.setUint32(12, size, true);
    yield this.out(new Uint8Array(descriptor.buffer));
    this.entries.push({ name: nameBytes, time, date, crc, size, offset });
  }

  /** The central directory and the end records; the archive is complete after these bytes. */
  *finish(): Generator<Uint8Array> {
    const start = this.offset;
    for (const e of this.entries) {
      const zip64 = e.offset >= U32;
      const extra = zip64 ? new DataView(new ArrayBuffer(12)) : null;
      if (extra) {
        extra.setUint16(0, 0x0001, true); // ZIP64 extended information
        extra.setUint16(2, 8, true);
        extra.setBigUint64(4, BigInt(e.offset), true);
      }
      const h = new DataView(new ArrayBuffer(46));
      h.setUint32(0, 0x02014b50, true);
      h.setUint16(4, UNIX | (zip64 ? VERSION_ZIP64 : VERSION), true);
      h.setUint16(6, zip64 ? VERSION_ZIP64 : VERSION, true);
      h.setUint16(8, FLAGS, true);
      h.setUint16(10, 0, true);
      h.setUint16(12, e.time, true);
      h.setUint16(14, e.date, true);
      h.setUint32(16, e.crc, true);
      h.setUint32(20, e.size, true);
      h.setUint32(24, e.size, true);
      h.setUint16(28, e.name.byteLength, true);
      h.setUint16(30, extra ? extra.byteLength : 0, true);
      h.setUint16(32, 0, true); // comment
      h.setUint16(34, 0, true); // disk
      h.setUint16(36, 0, true); // internal attributes
      h.setUint32(38, (FILE_MODE << 16) >>> 0, true);
      h.setUint32(42, zip64 ? U32 : e.offset, true);
      const parts = [new Uint8Array(h.buffer), e.name];
      if (extra) parts.push(new Uint8Array(extra.buffer));
      yield this.out(concat(...parts));
    }
    const cdSize = this.offset - start;
    const count = this.entries.length;
    if (count >= U16 || start >= U32 || cdSize >= U32) {
      const end64At = this.offset;
      const z = new DataView(new ArrayBuffer(56));
      z.setUint32(0, 0x06064b50, true);
      z.setBigUint64(4, 44n, true); // size of the rest of this record
      z.setUint16(12, UNIX | VERSION_ZIP64, true);
      z.setUint16(14, VERSION_ZIP64, true);
      z.setUint32(16, 0, true);
      z.setUint32(20, 0, true);
      z.setBigUint64(24, BigInt(count), true);
      z.setBigUint64(32, BigInt(count), true);
      z.setBigUint64(40, BigInt(cdSize), true);
      z.setBigUint64(48, BigInt(start), true);
      const locator = new DataView(new ArrayBuffer(20));
      locator.setUint32(0, 0x07064b50, true);
      locator.setUint32(4, 0, true);
      locator.setBigUint64(8, BigInt(end64At), true);
      locator.setUint32(16, 1, true);
      yield this.out(concat(new Uint8Array(z.buffer), new Uint8Array(locator.buffer)));
    }
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, Math.min(count, U16), true);
    end.setUint16(10, Math.min(count, U16), true);
    end.setUint32(12, Math.min(cdSize, U32), true);
    end.setUint32(16, Math.min(start, U32), true);
    end.setUint16(20, 0, true);
    yield this.out(new Uint8Array(end.buffer));
  }

  private out(bytes: Uint8Array): Uint8Array {
    this.offset += bytes.byteLength;
    return bytes;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
