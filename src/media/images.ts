/**
 * Image facts and transforms with Bun.Image: magic-byte sniffing, dimensions read from the header
 * (so a decompression bomb is refused before anything is decoded), conversion, thumbnails. Decodes
 * run a few at a time: each one can take hundreds of MB for a large photo.
 */
import { availableParallelism } from "node:os";
import type { OutputFormat } from "../domain/slots";

export type ImageFormat = "jpeg" | "png" | "webp" | "heic";

export const MIME: Record<ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  heic: "image/heic",
};
export const EXT: Record<ImageFormat, string> = { jpeg: "jpg", png: "png", webp: "webp", heic: "heic" };

const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]);

/** The format the bytes say they are, ignoring any declared Content-Type. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (
    b.length >= 8 &&
    b[0] === 0x89 &&
    b[1] === 0x50 &&
    b[2] === 0x4e &&
    b[3] === 0x47 &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a
  )
    return "png";
  if (b.length >= 12 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return "webp";
  if (b.length >= 12 && ascii(b, 4, 8) === "ftyp" && HEIF_BRANDS.has(ascii(b, 8, 12))) return "heic";
  return null;
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

export function formatFromMime(mime: string | null | undefined): ImageFormat | null {
  switch ((mime ?? "").toLowerCase().split(";")[0]?.trim()) {
    case "image/jpeg":
    case "image/jpg":
      return "jpeg";
    case "image/png":
      return "png";
    case "image/webp":
      return "webp";
    case "image/heic":
    case "image/heif":
      return "heic";
    default:
      return null;
  }
}

/** SPEC §10: the default pixel cap covers every current DSLR (the largest sensors are ~61 Mpx). */
export const DEFAULT_MAX_PIXELS = 64_000_000;

export interface Dimensions {
  width: number;
  height: number;
}

/**
 * Width and height as the file's header declares them, without decoding: JPEG SOF, PNG IHDR, WebP
 * VP8/VP8L/VP8X, HEIC's largest `ispe` property. Null when the header cannot be found.
 */
export function headerDimensions(bytes: Uint8Array, format: ImageFormat): Dimensions | null {
  const b = bytes;
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const u32 = (i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
  const le16 = (i: number) => b[i]! | (b[i + 1]! << 8);
  const le24 = (i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
  const ok = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  if (format === "png") return b.length >= 24 && ascii(b, 12, 16) === "IHDR" ? ok(u32(16), u32(20)) : null;
  if (format === "webp") {
    const chunk = b.length >= 30 ? ascii(b, 12, 16) : "";
    if (chunk === "VP8 " && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
      return ok(le16(26) & 0x3fff, le16(28) & 0x3fff);
    }
    if (chunk === "VP8L" && b[20] === 0x2f) {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return ok((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    if (chunk === "VP8X") return ok(le24(24) + 1, le24(27) + 1);
    return null;
  }
  if (format === "jpeg") {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2;
        continue;
      }
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return ok(u16(i + 7), u16(i + 5));
      if (marker === 0xd9 || marker === 0xda) return null; // no frame header before the scan
      i += 2 + u16(i + 2);
    }
    return null;
  }
  // HEIC: image spatial extents (`ispe`: version/flags, width, height); a grid's is the largest.
  let best: Dimensions | null = null;
  const limit = Math.min(b.length, 1 << 20);
  for (let i = 4; i + 16 <= limit; i++) {
    if (b[i] !== 0x69 || b[i + 1] !== 0x73 || b[i + 2] !== 0x70 || b[i + 3] !== 0x65) continue;
    if (u32(i - 4) !== 20) continue;
    const d = ok(u32(i + 8), u32(i + 12));
    if (d && (!best || d.width * d.height > best.width * best.height)) best = d;
  }
  return best;
}

/**
 * An animated WebP (VP8X with its animation flag) or PNG (an `acTL` chunk before the first `IDAT`):
 * no provider takes one, and the decoders would only read its first frame — refused at upload.
 */
export function isAnimated(bytes: Uint8Array, format: ImageFormat): boolean {
  const b = bytes;
  if (format === "webp") return b.length >= 21 && ascii(b, 12, 16) === "VP8X" && (b[20]! & 0x02) !== 0;
  if (format !== "png") return false;
  const limit = Math.min(b.length, 1 << 20);
  for (let i = 8; i + 8 <= limit; ) {
    const length = ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
    const type = ascii(b, i + 4, i + 8);
    if (type === "acTL") return true;
    if (type === "IDAT" || type === "IEND") return false;
    i += 12 + length;
  }
  return false;
}

/** Why an upload is not a usable image; null when it is. */
export type ImageProblem =
  | { kind: "not_image"; detected: ImageFormat | null; message: string }
  | { kind: "animated"; format: ImageFormat }
  | { kind: "too_large"; format: ImageFormat; width: number; height: number; maxPixels: number }
  | { kind: "heic_refused"; format: "heic" };

/**
 * Checks an upload before anything decodes it: magic bytes, header dimensions against the pixel
 * cap, whether HEIC can be used here, and (for JPEG/PNG/WebP) that Bun.Image can read the header.
 */
export async function inspectImage(
  bytes: Uint8Array,
  options: { maxPixels?: number; acceptsHeic?: boolean } = {},
): Promise<{ format: ImageFormat; dimensions: Dimensions } | ImageProblem> {
  const format = sniffImage(bytes);
  if (!format) {
    return {
      kind: "not_image",
      detected: null,
      message: "The upload is not a JPEG, PNG, WebP or HEIC image",
    };
  }
  const dimensions = headerDimensions(bytes, format);
  if (!dimensions) {
    return {
      kind: "not_image",
      detected: format,
      message: `The upload starts like ${format.toUpperCase()} but its header is damaged or incomplete`,
    };
  }
  if (isAnimated(bytes, format)) return { kind: "animated", format };
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (dimensions.width * dimensions.height > maxPixels) {
    return { kind: "too_large", format, ...dimensions, maxPixels };
  }
  if (format === "heic") {
    // Bun.Image has no HEIC decoder on Linux: only a provider that reads HEIC itself can use it.
    return options.acceptsHeic ? { format, dimensions } : { kind: "heic_refused", format };
  }
  try {
    await new Bun.Image(bytes).metadata();
  } catch (err) {
    return {
      kind: "not_image",
      detected: format,
      message: `The ${format.toUpperCase()} image could not be read: ${String((err as Error).message ?? err).replace(/^Error:\s*/, "")}`,
    };
  }
  return { format, dimensions };
}

/**
 * Bun.Image could not decode or encode an image whose header looked fine (truncated or corrupt
 * pixel data). It is the photo's fault, not the server's: the job fails with this message.
 */
export class ImageUnreadable extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} could not be decoded: ${String((cause as Error)?.message ?? cause)}`);
    this.name = "ImageUnreadable";
  }
}

async function decode<T>(what: string, bytes: Uint8Array, fn: () => Promise<T>): Promise<T> {
  try {
    return await withDecodeSlot(fn, headerPixels(bytes));
  } catch (err) {
    throw new ImageUnreadable(what, err);
  }
}

/** Refuses to decode anything over the pixel cap (results from providers included). */
function assertDecodable(bytes: Uint8Array, format: ImageFormat, maxPixels = DEFAULT_MAX_PIXELS): void {
  const d = headerDimensions(bytes, format);
  if (d && d.width * d.height > maxPixels) {
    throw new Error(`image of ${d.width}×${d.height} px is over the ${maxPixels} px cap`);
  }
}

/**
 * Decodes and encodes share a pixel budget rather than a count: a decoded image holds about 4 bytes
 * a pixel, so six 64 Mpx photos at once would need 1.5 GB. The budget lets one photo at the pixel
 * cap through at a time (with room for small ones beside it), and many small ones together, keeping
 * the decoders' memory near 300 MB whatever arrives. Waiters are served in order (no starvation).
 */
export const DECODE_PIXEL_BUDGET = 72_000_000;
/** What a decode of unknown size is counted as (a typical booth photo). */
const UNKNOWN_PIXELS = 24_000_000;
/** Never more decodes at once than cores (they are CPU-bound), whatever their sizes. */
const DECODE_SLOTS = Math.max(1, Math.min(4, availableParallelism()));
let pixelsInUse = 0;
let decoding = 0;
const decodeQueue: { pixels: number; admit: () => void }[] = [];

function admitWaiting(): void {
  while (decodeQueue.length) {
    const head = decodeQueue[0]!;
    if (decoding >= DECODE_SLOTS || (decoding > 0 && pixelsInUse + head.pixels > DECODE_PIXEL_BUDGET)) return;
    decodeQueue.shift();
    decoding++;
    pixelsInUse += head.pixels;
    head.admit();
  }
}

/** Runs `fn` (a decode or encode of about `pixels` pixels) once the pixel budget has room for it. */
export async function withDecodeSlot<T>(fn: () => Promise<T>, pixels: number = UNKNOWN_PIXELS): Promise<T> {
  const weight = Math.min(Math.max(1, pixels), DECODE_PIXEL_BUDGET);
  await new Promise<void>((admit) => {
    decodeQueue.push({ pixels: weight, admit });
    admitWaiting();
  });
  try {
    return await fn();
  } finally {
    decoding--;
    pixelsInUse -= weight;
    admitWaiting();
  }
}

/** The pixels an image's header declares (UNKNOWN_PIXELS when it cannot be read). */
export function headerPixels(bytes: Uint8Array): number {
  const format = sniffImage(bytes);
  const d = format ? headerDimensions(bytes, format) : null;
  return d ? d.width * d.height : UNKNOWN_PIXELS;
}

export interface EncodedImage {
  bytes: Uint8Array;
  format: ImageFormat;
  mime: string;
}

function encoder(img: Bun.Image, format: Exclude<ImageFormat, "heic">): Bun.Image {
  if (format === "jpeg") return img.jpeg({ quality: 92 });
  if (format === "png") return img.png();
  return img.webp({ quality: 90 });
}

/** Converts to the slot's output format; bytes already in that format pass through untouched. */
export async function toOutputFormat(bytes: Uint8Array, output: OutputFormat): Promise<EncodedImage> {
  const source = sniffImage(bytes);
  if (!source) throw new Error("result is not a JPEG, PNG, WebP or HEIC image");
  if (output === "original" || output === source) return { bytes, format: source, mime: MIME[source] };
  assertDecodable(bytes, source);
  const out = await decode(`The ${source.toUpperCase()} image`, bytes, () =>
    encoder(new Bun.Image(bytes), output).bytes(),
  );
  return { bytes: out, format: output, mime: MIME[output] };
}

/** Shrinks so the long side is at most `maxSide`; smaller images are returned unchanged. */
export async function downscale(bytes: Uint8Array, maxSide: number): Promise<EncodedImage> {
  const format = sniffImage(bytes);
  if (!format) throw new Error("not a JPEG, PNG, WebP or HEIC image");
  if (format === "heic") return { bytes, format, mime: MIME[format] };
  const meta = await decode("The photo", bytes, () => new Bun.Image(bytes).metadata());
  if (Math.max(meta.width, meta.height) <= maxSide) return { bytes, format, mime: MIME[format] };
  assertDecodable(bytes, format);
  // Bilinear, not the default Lanczos-3: still antialiased (its support widens with the ratio — a
  // 1-px pattern comes out flat, unlike "box" and "nearest" here) and the cheapest kernel: 24 MP →
  // 2048 px took min 159 / median 262 ms against Lanczos-3's 179 / 364 (interleaved, load 5). The
  // rest is libjpeg-turbo's full-size decode (~75 ms; Bun.Image has no DCT scaling) and encode.
  const out = await decode("The photo", bytes, () =>
    encoder(
      new Bun.Image(bytes).resize(maxSide, maxSide, {
        fit: "inside",
        withoutEnlargement: true,
        filter: "bilinear",
      }),
      format,
    ).bytes(),
  );
  return { bytes: out, format, mime: MIME[format] };
}

export async function thumbnail(bytes: Uint8Array, side = 400): Promise<Uint8Array> {
  const format = sniffImage(bytes);
  if (format) assertDecodable(bytes, format);
  return withDecodeSlot(
    () =>
      new Bun.Image(bytes)
        .resize(side, side, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 78 })
        .bytes(),
    headerPixels(bytes),
  );
}

export async function imageSize(bytes: Uint8Array): Promise<{ width: number; height: number } | null> {
  try {
    const m = await new Bun.Image(bytes).metadata();
    return { width: m.width, height: m.height };
  } catch {
    return null;
  }
}
