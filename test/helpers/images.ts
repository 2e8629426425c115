/** Test photos made from scratch: a tiny PNG encoder, then Bun.Image for JPEG/WebP. */
import { deflateSync } from "node:zlib";

function crc32(bytes: Uint8Array): number {
  return Bun.hash.crc32(bytes) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A colourful RGB gradient PNG (so greyscale conversion is observable); `alpha` adds a fading alpha channel. */
export function makePng(width = 64, height = 48, { alpha = false } = {}): Uint8Array {
  const channels = alpha ? 4 : 3;
  const raw = new Uint8Array((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * channels + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * channels;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = 200 - Math.round((x / width) * 150);
      if (alpha) raw[i + 3] = 255 - Math.round((y / height) * 200);
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, alpha ? 6 : 2, 0, 0, 0], 8);
  const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [
    sig,
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array()),
  ];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An animated PNG (APNG): the still PNG with an `acTL` chunk (2 frames) before its image data. */
export function makeApng(width = 64, height = 48): Uint8Array {
  const png = makePng(width, height);
  const actl = new Uint8Array(8);
  new DataView(actl.buffer).setUint32(0, 2);
  const afterIhdr = 8 + 25; // signature, then IHDR (4 length + 4 type + 13 data + 4 crc)
  const add = chunk("acTL", actl);
  const out = new Uint8Array(png.length + add.length);
  out.set(png.subarray(0, afterIhdr));
  out.set(add, afterIhdr);
  out.set(png.subarray(afterIhdr), afterIhdr + add.length);
  return out;
}

/**
 * An animated WebP as an animation tool writes it: a VP8X header with the animation flag, an ANIM
 * chunk, and one ANMF frame holding a still WebP's VP8 bitstream.
 */
export async function makeAnimatedWebp(width = 64, height = 48): Promise<Uint8Array> {
  const still = await makeWebp(width, height);
  const vp8 = still.subarray(12); // the still's VP8 chunk (header and data)
  const le = (n: number, bytes: number) => Array.from({ length: bytes }, (_, i) => (n >> (8 * i)) & 0xff);
  const riffChunk = (type: string, data: number[] | Uint8Array) => {
    const body = Uint8Array.from(data as ArrayLike<number>);
    const pad = body.length % 2;
    return Uint8Array.from([
      ...new TextEncoder().encode(type),
      ...le(body.length, 4),
      ...body,
      ...(pad ? [0] : []),
    ]);
  };
  const vp8x = riffChunk("VP8X", [0x02, 0, 0, 0, ...le(width - 1, 3), ...le(height - 1, 3)]);
  const anim = riffChunk("ANIM", [0, 0, 0, 0, 0, 0]);
  const anmf = riffChunk("ANMF", [
    ...le(0, 3),
    ...le(0, 3),
    ...le(width - 1, 3),
    ...le(height - 1, 3),
    ...le(100, 3),
    0,
    ...vp8,
  ]);
  const body = [...new TextEncoder().encode("WEBP"), ...vp8x, ...anim, ...anmf];
  return Uint8Array.from([...new TextEncoder().encode("RIFF"), ...le(body.length, 4), ...body]);
}

export async function makeJpeg(width = 64, height = 48): Promise<Uint8Array> {
  return new Bun.Image(makePng(width, height)).jpeg({ quality: 90 }).bytes();
}

export async function makeWebp(width = 64, height = 48): Promise<Uint8Array> {
  return new Bun.Image(makePng(width, height)).webp({ quality: 90 }).bytes();
}

/** Mean absolute difference between colour channels: 0 for a greyscale image. */
export async function colourfulness(bytes: Uint8Array): Promise<number> {
  const png = await new Bun.Image(bytes).png().bytes();
  // Re-decode via a tiny PNG reader is heavy; instead sample through a 1-row WebP? Use raw decode:
  return rgbSpread(await decodePngRgb(png));
}

async function decodePngRgb(png: Uint8Array): Promise<{ data: Uint8Array; channels: number }> {
  const { inflateSync } = await import("node:zlib");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  let colorType = 2;
  const idat: Uint8Array[] = [];
  while (o < png.length) {
    const len = view.getUint32(o);
    const type = new TextDecoder().decode(png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === "IHDR") {
      width = new DataView(data.buffer, data.byteOffset).getUint32(0);
      height = new DataView(data.buffer, data.byteOffset).getUint32(4);
      colorType = data[9]!;
    } else if (type === "IDAT") idat.push(data);
    o += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : colorType === 0 ? 1 : colorType === 4 ? 2 : 3;
  const joined = Buffer.concat(idat);
  const raw = new Uint8Array(inflateSync(joined));
  const stride = width * channels;
  const out = new Uint8Array(width * height * channels);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (line[i]! + pred) & 0xff;
    }
    out.set(cur, y * stride);
    prev = cur;
  }
  return { data: out, channels };
}

function rgbSpread({ data, channels }: { data: Uint8Array; channels: number }): number {
  if (channels < 3) return 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i + 2 < data.length; i += channels) {
    sum += Math.abs(data[i]! - data[i + 1]!) + Math.abs(data[i + 1]! - data[i + 2]!);
    n++;
  }
  return sum / Math.max(1, n);
}

/**
 * The start of a HEIC file as a camera writes it: `ftyp` (brand heic) and a `meta` box whose
 * item properties hold the image's spatial extent (`ispe`), then some coded bytes. No encoder is
 * needed: nothing in PhotoChanger decodes HEIC, it only reads the header.
 */
export function makeHeic(width = 4032, height = 3024, payloadBytes = 256): Uint8Array {
  const box = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(8 + body.length);
    new DataView(out.buffer).setUint32(0, out.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    return out;
  };
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const ispeBody = new Uint8Array(12);
  new DataView(ispeBody.buffer).setUint32(4, width);
  new DataView(ispeBody.buffer).setUint32(8, height);
  const ftyp = box("ftyp", new TextEncoder().encode("heic\0\0\0\0mif1heic"));
  const meta = box("meta", cat(new Uint8Array(4), box("iprp", box("ipco", box("ispe", ispeBody)))));
  const mdat = box(
    "mdat",
    new Uint8Array(payloadBytes).map((_, i) => (i * 37) & 0xff),
  );
  return cat(ftyp, meta, mdat);
}
