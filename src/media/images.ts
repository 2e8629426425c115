/** Image facts and transforms with Bun.Image: magic-byte sniffing, conversion, thumbnails. */
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

/**
 * True when the image can be read: its header parses (JPEG/PNG/WebP). HEIC cannot be decoded by
 * Bun.Image on Linux, so for HEIC the magic bytes are the whole check.
 */
export async function isDecodable(bytes: Uint8Array, format: ImageFormat): Promise<boolean> {
  if (format === "heic") return true;
  try {
    const meta = await new Bun.Image(bytes).metadata();
    return meta.width > 0 && meta.height > 0;
  } catch {
    return false;
  }
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
  const out = await encoder(new Bun.Image(bytes), output).bytes();
  return { bytes: out, format: output, mime: MIME[output] };
}

/** Shrinks so the long side is at most `maxSide`; smaller images are returned unchanged. */
export async function downscale(bytes: Uint8Array, maxSide: number): Promise<EncodedImage> {
  const format = sniffImage(bytes);
  if (!format) throw new Error("not a JPEG, PNG, WebP or HEIC image");
  if (format === "heic") return { bytes, format, mime: MIME[format] };
  const meta = await new Bun.Image(bytes).metadata();
  if (Math.max(meta.width, meta.height) <= maxSide) return { bytes, format, mime: MIME[format] };
  const out = await encoder(
    new Bun.Image(bytes).resize(maxSide, maxSide, { fit: "inside", withoutEnlargement: true }),
    format,
  ).bytes();
  return { bytes: out, format, mime: MIME[format] };
}

export async function thumbnail(bytes: Uint8Array, side = 400): Promise<Uint8Array> {
  return new Bun.Image(bytes)
    .resize(side, side, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 78 })
    .bytes();
}

export async function imageSize(bytes: Uint8Array): Promise<{ width: number; height: number } | null> {
  try {
    const m = await new Bun.Image(bytes).metadata();
    return { width: m.width, height: m.height };
  } catch {
    return null;
  }
}
