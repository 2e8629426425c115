/**
 * Photo-like test images made from scratch. A booth photo is not a smooth gradient: JPEG sizes and
 * decode/encode times depend on texture, so these carry soft shapes plus sensor-like noise, and
 * their byte sizes land where real camera JPEGs do (a 2 MP booth shot ≈ 1 MB at quality 92).
 * Pixels are written as an uncompressed BMP (trivial to produce) and encoded with Bun.Image; the
 * noise is seeded, so every run measures the same bytes.
 */
import { seededRandom } from "../../test/helpers/random";

/** A 24-bit BMP of a photo-like scene: gradient sky, a few soft blobs, per-pixel noise. */
export function photoBmp(width: number, height: number, noise = 18, seed = 7): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  v.setUint32(2, size, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, -height, true); // top-down rows
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, rowBytes * height, true);
  const rand = seededRandom(seed);
  const blobs = Array.from({ length: 6 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.08 + rand() * 0.25) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    const base = 54 + y * rowBytes;
    for (let x = 0; x < width; x++) {
      let r = 70 + (x / width) * 120;
      let g = 110 + (y / height) * 90;
      let b = 200 - (y / height) * 120;
      for (const blob of blobs) {
        const dx = x - blob.x;
        const dy = y - blob.y;
        const k = Math.exp(-(dx * dx + dy * dy) / (2 * blob.r * blob.r));
        r += (blob.c[0]! - r) * k;
        g += (blob.c[1]! - g) * k;
        b += (blob.c[2]! - b) * k;
      }
      const n = (rand() - 0.5) * noise;
      const i = base + x * 3;
      out[i] = clamp(b + n);
      out[i + 1] = clamp(g + n);
      out[i + 2] = clamp(r + n);
    }
  }
  return out;
}

function clamp(n: number): number {
  return n < 0 ? 0 : n > 255 ? 255 : n | 0;
}

export async function photoJpeg(
  width: number,
  height: number,
  quality = 92,
  noise = 18,
): Promise<Uint8Array> {
  return new Bun.Image(photoBmp(width, height, noise)).jpeg({ quality }).bytes();
}

export async function photoPng(width: number, height: number, noise = 18): Promise<Uint8Array> {
  return new Bun.Image(photoBmp(width, height, noise)).png().bytes();
}

/**
 * A width×height JPEG of about `targetBytes`: the noise level is found by a few trial encodes
 * (bytes grow with texture), so "a 1 MB booth JPEG" means what it says on any Bun.Image build.
 */
export async function jpegOfSize(targetBytes: number, width: number, height: number): Promise<Uint8Array> {
  let noise = 30;
  let best = await photoJpeg(width, height, 92, noise);
  for (let i = 0; i < 5 && Math.abs(best.byteLength - targetBytes) / targetBytes > 0.04; i++) {
    noise = Math.max(1, Math.min(120, noise * (targetBytes / best.byteLength) ** 1.5));
    best = await photoJpeg(width, height, 92, noise);
  }
  return best;
}
