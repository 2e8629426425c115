/**
 * Text contrast of the interactive states axe-core does not see (it checks the resting page only):
 * hover, focus, disabled and in-flight buttons, pills, links, hints and switched-off slots, computed
 * from app.css's own variables against the worst background they can sit on (a card is white at
 * 86 % over the body's gradient; the gradient's darkest stop is taken). WCAG AA: 4.5:1 for text,
 * 3:1 for the focus ring.
 */
import { describe, expect, test } from "bun:test";

type RGB = [number, number, number];

const css = await Bun.file(new URL("../templates/assets/app.css", import.meta.url)).text();
const vars = new Map<string, string>();
for (const m of css.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6})\b/gi)) {
  if (!vars.has(m[1]!)) vars.set(m[1]!, m[2]!);
}

function rgb(colour: string): RGB {
  const h = colour.startsWith("--") ? vars.get(colour.slice(2)) : colour;
  if (!h) throw new Error(`no colour ${colour} in app.css`);
  return [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as RGB;
}
const over = (fg: RGB, bg: RGB, alpha: number): RGB =>
  fg.map((c, i) => c * alpha + bg[i]! * (1 - alpha)) as RGB;
function luminance(c: RGB): number {
  const [r, g, b] = c.map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as RGB;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a: RGB, b: RGB): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

// the body's background stops (app.css `body`), a card over each, the sticky top bar over each
const BODY = ["#f6faf9", "#dff3ff", "#ffe9dc", "#e2f7ea"].map(rgb);
const CARD = BODY.map((b) => over([255, 255, 255], b, 0.86));
const TOPBAR = BODY.map((b) => over(rgb("#f6faf9"), b, 0.8));

/** The lowest contrast of `fg` over any of the backgrounds. */
function worst(fg: string, bg: string | RGB[]): number {
  const backs = typeof bg === "string" ? [rgb(bg)] : bg;
  return Math.min(...backs.map((b) => ratio(rgb(fg), b)));
}

const TEXT: [string, string, string | RGB[]][] = [
  ["button", "#ffffff", "--accent"],
  ["button :hover", "#ffffff", "--accent-hover"],
  ["button :disabled / in flight", "--inactive-ink", "--inactive-bg"],
  ["ghost button", "--accent", CARD],
  ["ghost button :hover", "--accent-hover", "--accent-soft"],
  ["danger button", "#ffffff", "--danger"],
  ["danger ghost button", "--danger", CARD],
  ["danger ghost button :hover", "--danger", "--danger-soft"],
  ["copied button", "#ffffff", "--ok"],
  ["link", "--accent", CARD],
  ["link :hover", "--accent-hover", CARD],
  ["link / eyebrow on the page background", "--accent", BODY],
  ["link in a warning", "--accent", "--warn-soft"],
  ["link in an error", "--accent", "--danger-soft"],
  ["link in a note", "--accent", "--info-soft"],
  ["navigation", "--ink-2", TOPBAR],
  ["navigation :hover", "--ink", "--accent-soft"],
  ["navigation, current page", "#ffffff", "--accent"],
  ["hint / muted on a card", "--muted", CARD],
  ["hint / muted on the page background", "--muted", BODY],
  ["hint in a warning", "--muted", "--warn-soft"],
  ["hint in an error", "--muted", "--danger-soft"],
  ["disabled input", "--muted", "#f3f6f5"],
  ["pill", "--ink-2", "#eef3f2"],
  ["pill ok", "--ok", "--ok-soft"],
  ["pill off", "#5f6b76", "#eef0f2"],
  ["pill failed", "--danger", "--danger-soft"],
  ["pill warn", "--warn", "--warn-soft"],
  ["pill busy", "#1f5fa8", "--info-soft"],
  ["switched-off slot: hint", "--muted", "--inactive-bg"],
  ["switched-off slot: link", "--accent", "--inactive-bg"],
  ["password toggle :hover", "--accent", "--accent-soft"],
];

describe("contrast of every state (WCAG AA)", () => {
  for (const [name, fg, bg] of TEXT) {
    test(`${name}: at least 4.5:1`, () => {
      expect(worst(fg, bg)).toBeGreaterThanOrEqual(4.5);
    });
  }
  test("the focus ring: at least 3:1 on cards, the page and switched-off slots", () => {
    for (const bg of [CARD, BODY, "--inactive-bg"] as const)
      expect(worst("--focus", bg)).toBeGreaterThanOrEqual(3);
  });
  test("nothing fades text with opacity (a faded state is how contrast got lost before)", () => {
    for (const rule of css.matchAll(/([^{}]+)\{([^}]*)\}/g)) {
      const [selector, body] = [rule[1]!.trim(), rule[2]!];
      const opacity = /(?:^|;)\s*opacity:\s*([\d.]+)/.exec(body)?.[1];
      if (!opacity || Number(opacity) === 0 || Number(opacity) === 1) continue;
      // pictures, tracks, dots and keyframes only
      expect({ selector, ok: /thumb|track|dot|%|preview|img/.test(selector) }).toEqual({
        selector,
        ok: true,
      });
    }
  });
});
