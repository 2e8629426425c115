/**
 * Row 6 — images. A 24 MP camera JPEG is downscaled to the provider's useful size (the server's own
 * `downscale`, long side 2048) and a provider's PNG answer converted to the booth's JPEG (the
 * server's own `toOutputFormat`): time per image, and bytes before/after side by side. The bytes
 * the fake provider actually received through a real ingest are reported next to them.
 */
import { downscale, toOutputFormat } from "../../src/media/images";
import { median } from "./lib";
import { photoJpeg, photoPng } from "./photos";

export interface ImageRun {
  bigBytes: number;
  downscaled: { ms: number[]; bytes: number; width: number; height: number };
  png: { bytes: number; width: number; height: number };
  jpeg: { ms: number[]; bytes: number };
  big: Uint8Array;
}

export async function measureImages(runs: number): Promise<ImageRun> {
  const big = await photoJpeg(6000, 4000, 92, 18);
  const downMs: number[] = [];
  let down = big;
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    down = (await downscale(big, 2048)).bytes;
    if (i > 0) downMs.push(performance.now() - t0); // the first run warms the codec
  }
  const meta = await new Bun.Image(down).metadata();
  // Gemini answers PNG; at 2K a result is ~2048×1365 for a 3:2 photo.
  const png = await photoPng(2048, 1365, 18);
  const jpegMs: number[] = [];
  let jpeg = png;
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    jpeg = (await toOutputFormat(png, "jpeg")).bytes;
    if (i > 0) jpegMs.push(performance.now() - t0);
  }
  return {
    big,
    bigBytes: big.byteLength,
    downscaled: { ms: downMs, bytes: down.byteLength, width: meta.width, height: meta.height },
    png: { bytes: png.byteLength, width: 2048, height: 1365 },
    jpeg: { ms: jpegMs, bytes: jpeg.byteLength },
  };
}

export function slowest(run: ImageRun): number {
  return Math.max(median(run.downscaled.ms), median(run.jpeg.ms));
}
