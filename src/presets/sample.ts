/**
 * A preset's sample picture, drawn as SVG from its palette and motif: a portrait silhouette on a
 * gradient with the style's pattern. Made here, never downloaded; no scripts, no external refs.
 */
import type { SampleArt } from "./catalogue";

const W = 240;
const H = 180;

/** A stable pseudo-random sequence per preset, so the same preset always looks the same. */
function rng(seed: string): () => number {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const c = (v: string) => (COLOUR.test(v) ? v : "#888888");

function motif(art: SampleArt, r: () => number): string {
  const a = c(art.accent);
  const out: string[] = [];
  switch (art.motif) {
    case "stars":
    case "snow":
      for (let i = 0; i < 40; i++) {
        const rad = art.motif === "snow" ? 1.5 + r() * 2.5 : 0.6 + r() * 1.4;
        out.push(
          `<circle cx="${(r() * W).toFixed(1)}" cy="${(r() * H).toFixed(1)}" r="${rad.toFixed(1)}" fill="${a}" opacity="0.85"/>`,
        );
      }
      break;
    case "dots":
      for (let y = 8; y < H; y += 14) {
        for (let x = 8 + ((y / 14) % 2) * 7; x < W; x += 14)
          out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${a}" opacity="0.35"/>`);
      }
      break;
    case "rays":
      for (let i = 0; i < 18; i++) {
        const ang = (i / 18) * Math.PI * 2;
        const x = W / 2 + Math.cos(ang) * 300;
        const y = H * 0.45 + Math.sin(ang) * 300;
        if (i % 2 === 0)
          out.push(
            `<polygon points="${W / 2},${H * 0.45} ${x.toFixed(0)},${y.toFixed(0)} ${(W / 2 + Math.cos(ang + 0.17) * 300).toFixed(0)},${(H * 0.45 + Math.sin(ang + 0.17) * 300).toFixed(0)}" fill="${a}" opacity="0.25"/>`,
          );
      }
      break;
    case "grid":
      for (let x = -W; x < 2 * W; x += 24)
        out.push(
          `<line x1="${W / 2}" y1="${H * 0.55}" x2="${x}" y2="${H}" stroke="${a}" stroke-width="1" opacity="0.6"/>`,
        );
      for (let y = H * 0.6; y < H; y += 10)
        out.push(
          `<line x1="0" y1="${y.toFixed(0)}" x2="${W}" y2="${y.toFixed(0)}" stroke="${a}" stroke-width="1" opacity="0.5"/>`,
        );
      break;
    case "frame":
      out.push(
        `<rect x="6" y="6" width="${W - 12}" height="${H - 12}" fill="none" stroke="${a}" stroke-width="8"/>`,
      );
      out.push(
        `<rect x="16" y="16" width="${W - 32}" height="${H - 32}" fill="none" stroke="${a}" stroke-width="1.5" opacity="0.7"/>`,
      );
      break;
    case "brush":
      for (let i = 0; i < 9; i++) {
        const y = r() * H;
        out.push(
          `<path d="M${(r() * 40 - 20).toFixed(0)} ${y.toFixed(0)} q ${(W / 2).toFixed(0)} ${(r() * 30 - 15).toFixed(0)} ${W + 20} ${(r() * 20 - 10).toFixed(0)}" stroke="${a}" stroke-width="${(6 + r() * 10).toFixed(0)}" stroke-linecap="round" fill="none" opacity="0.3"/>`,
        );
      }
      break;
    case "pixels":
      for (let i = 0; i < 30; i++) {
        const s = 8;
        out.push(
          `<rect x="${Math.floor(r() * (W / s)) * s}" y="${Math.floor((0.75 + r() * 0.25) * (H / s)) * s}" width="${s}" height="${s}" fill="${a}"/>`,
        );
      }
      break;
    case "lines":
      for (let i = 0; i < 12; i++) {
        const y = 10 + i * 14;
        out.push(
          `<line x1="0" y1="${y}" x2="${W}" y2="${y + 30}" stroke="${a}" stroke-width="4" opacity="0.25"/>`,
        );
      }
      break;
    case "halo":
      out.push(`<circle cx="${W / 2}" cy="${H * 0.42}" r="62" fill="${a}" opacity="0.45"/>`);
      break;
    case "waves":
      for (let i = 0; i < 6; i++)
        out.push(
          `<path d="M0 ${H - i * 14} q ${W / 4} -12 ${W / 2} 0 t ${W / 2} 0" stroke="${a}" fill="none" stroke-width="3" opacity="0.5"/>`,
        );
      break;
    case "bokeh":
      for (let i = 0; i < 14; i++) {
        out.push(
          `<circle cx="${(r() * W).toFixed(0)}" cy="${(r() * H).toFixed(0)}" r="${(6 + r() * 16).toFixed(0)}" fill="${a}" opacity="0.18"/>`,
        );
      }
      break;
  }
  return out.join("");
}

export function sampleSvg(id: string, art: SampleArt): string {
  const r = rng(id);
  const [top, bottom] = art.sky.map(c);
  const fig = c(art.figure);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient></defs>` +
    `<rect width="${W}" height="${H}" fill="url(#g)"/>` +
    motif(art, r) +
    // The guest: head and shoulders.
    `<ellipse cx="${W / 2}" cy="${H * 0.4}" rx="30" ry="36" fill="${fig}"/>` +
    `<path d="M${W / 2 - 70} ${H} q 10 -62 70 -64 q 60 2 70 64 z" fill="${fig}"/>` +
    `</svg>`
  );
}
