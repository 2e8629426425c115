/**
 * A small colourful test picture made on the spot (an RGB gradient encoded as PNG with zlib), so
 * `provider check` can send a real image without shipping or downloading one.
 */
import { deflateSync } from "node:zlib";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** A width×height PNG: red rises to the right, green downwards, a blue disc in the middle. */
export function testCardPng(width = 128, height = 128): Uint8Array {
  const raw = new Uint8Array((width * 3 + 1) * height);
  const r2 = (Math.min(width, height) / 4) ** 2;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3;
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < r2;
      raw[i] = disc ? 40 : Math.round((x / width) * 255);
      raw[i + 1] = disc ? 90 : Math.round((y / height) * 255);
      raw[i + 2] = disc ? 230 : 120;
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
