/**
 * The image-header reader (src/media/images.ts `headerDimensions`, what the pixel cap is checked
 * against before anything decodes) cross-checked against image-size on generated images of every
 * kind the product accepts: JPEG baseline and progressive (with and without an EXIF orientation),
 * PNG RGB, RGBA and indexed, WebP lossy, lossless and extended (VP8X), HEIC, plus the header-only
 * "bombs" the hostile suites send. Sizes include 1×1, odd sizes and extreme aspect ratios.
 */
import { describe, expect, test } from "bun:test";
import { imageSize } from "image-size";
import { headerDimensions, type ImageFormat, sniffImage } from "../src/media/images";
import { jpegBomb, pngBomb, webpBomb } from "./helpers/hostile";
import { makeHeic, makePng } from "./helpers/images";

const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [17, 9],
  [320, 240],
  [641, 479],
  [1, 1500],
  [1500, 1],
];

/** An EXIF APP1 segment saying Orientation = `orientation`, put right after SOI. */
function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x4d,
    0x4d,
    0,
    0x2a,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const body = [...new TextEncoder().encode("Exif\0\0"), ...tiff];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return new Uint8Array([...jpeg.subarray(0, 2), ...app1, ...jpeg.subarray(2)]);
}

/** A header-only JPEG whose frame header is `sof` (SOF0 baseline, SOF1 extended, SOF2 progressive). */
function jpegHeader(width: number, height: number, sof: number): Uint8Array {
  const bytes = jpegBomb(width, height);
  const at = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  bytes[at + 1] = sof;
  return bytes;
}

async function generated(): Promise<{ what: string; bytes: Uint8Array }[]> {
  const out: { what: string; bytes: Uint8Array }[] = [];
  for (const [w, h] of SIZES) {
    const rgb = makePng(w, h);
    const rgba = makePng(w, h, { alpha: true });
    const jpeg = await new Bun.Image(rgb).jpeg({ quality: 85 }).bytes();
    out.push(
      { what: `JPEG ${w}×${h}`, bytes: jpeg },
      {
        what: `progressive JPEG ${w}×${h}`,
        bytes: await new Bun.Image(rgb).jpeg({ progressive: true }).bytes(),
      },
      { what: `JPEG ${w}×${h}, EXIF orientation 6`, bytes: withExifOrientation(jpeg, 6) },
      { what: `PNG RGB ${w}×${h}`, bytes: rgb },
      { what: `PNG RGBA ${w}×${h}`, bytes: rgba },
      { what: `PNG indexed ${w}×${h}`, bytes: await new Bun.Image(rgb).png({ palette: true }).bytes() },
      { what: `WebP lossy ${w}×${h}`, bytes: await new Bun.Image(rgb).webp({ quality: 80 }).bytes() },
      { what: `WebP lossless ${w}×${h}`, bytes: await new Bun.Image(rgb).webp({ lossless: true }).bytes() },
      {
        what: `WebP lossy with alpha ${w}×${h}`,
        bytes: await new Bun.Image(rgba).webp({ quality: 80 }).bytes(),
      },
      { what: `HEIC ${w}×${h}`, bytes: makeHeic(w, h) },
    );
  }
  out.push(
    { what: "WebP at its widest, 16383×1", bytes: await new Bun.Image(makePng(16383, 1)).webp().bytes() },
    { what: "HEIC 4032×3024 (a phone's)", bytes: makeHeic(4032, 3024) },
    { what: "HEIC 4031×3023 (odd)", bytes: makeHeic(4031, 3023) },
    { what: "JPEG header SOF0 16000×16000", bytes: jpegHeader(16000, 16000, 0xc0) },
    { what: "JPEG header SOF1 65535×1", bytes: jpegHeader(65535, 1, 0xc1) },
    { what: "JPEG header SOF2 1×65535", bytes: jpegHeader(1, 65535, 0xc2) },
    { what: "PNG header 20000×20000", bytes: pngBomb(20000, 20000) },
    { what: "PNG header 2^31-1 × 1", bytes: pngBomb(2 ** 31 - 1, 1) },
    { what: "WebP VP8X header 16000×16000", bytes: webpBomb(16000, 16000) },
    { what: "WebP VP8X header 16777216×1 (its largest)", bytes: webpBomb(16777216, 1) },
  );
  return out;
}

const KINDS: Record<ImageFormat, string> = { jpeg: "jpg", png: "png", webp: "webp", heic: "heic" };

describe("image headers against image-size", () => {
  test("every generated image: the same kind and the same width and height", async () => {
    const images = await generated();
    const disagreements: string[] = [];
    for (const { what, bytes } of images) {
      const format = sniffImage(bytes);
      const theirs = imageSize(bytes);
      const ours = format ? headerDimensions(bytes, format) : null;
      const same =
        format !== null &&
        KINDS[format] === theirs.type &&
        ours?.width === theirs.width &&
        ours?.height === theirs.height;
      if (!same) {
        disagreements.push(
          `${what}: ours ${format} ${JSON.stringify(ours)}, image-size ${JSON.stringify(theirs)}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    expect(images.length).toBe(SIZES.length * 10 + 10);
  });

  test("the EXIF orientation changes neither reader's stored size (the pixel count is the same)", async () => {
    const jpeg = withExifOrientation(await new Bun.Image(makePng(30, 10)).jpeg().bytes(), 6);
    expect(imageSize(jpeg)).toMatchObject({ width: 30, height: 10, orientation: 6 });
    expect(headerDimensions(jpeg, "jpeg")).toEqual({ width: 30, height: 10 });
  });
});
