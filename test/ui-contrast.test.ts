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

/** The declarations of the first rule whose selector is exactly `selector`. */
function block(selector: string): string {
  const at = css.indexOf(`${selector} {`);
  if (at < 0) throw new Error(`no ${selector} rule in app.css`);
  return css.slice(at, css.indexOf("}", at));
}
function variables(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6}\b|rgba\([^)]*\))/gi)) out.set(m[1]!, m[2]!);
  return out;
}
// the light palette (`:root`), and the dark one: its own values over the light ones
const LIGHT = variables(block(":root"));
const DARK_OWN = variables(block(':root[data-theme="dark"]'));
const DARK = new Map([...LIGHT, ...DARK_OWN]);
let vars = LIGHT;

function rgb(colour: string): RGB {
  const h = colour.startsWith("--") ? vars.get(colour.slice(2)) : colour;
  if (!h) throw new Error(`no colour ${colour} in app.css`);
  if (h.startsWith("rgba")) return h.slice(5, -1).split(",").slice(0, 3).map(Number) as RGB;
  return [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as RGB;
}
function alpha(colour: string): number {
  const h = vars.get(colour.slice(2))!;
  return h.startsWith("rgba") ? Number(h.slice(5, -1).split(",")[3]) : 1;
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
const BODY = () => ["--bg", "--bg-1", "--bg-2", "--bg-3"].map(rgb);
const CARD = () => BODY().map((b) => over(rgb("--card"), b, alpha("--card")));
const TOPBAR = () => BODY().map((b) => over(rgb("--topbar"), b, alpha("--topbar")));

/** The lowest contrast of `fg` over any of the backgrounds. */
function worst(fg: string, bg: string | (() => RGB[])): number {
  const backs = typeof bg === "string" ? [rgb(bg)] : bg();
  return Math.min(...backs.map((b) => ratio(rgb(fg), b)));
}

const TEXT: [string, string, string | (() => RGB[])][] = [
  ["button", "--on-fill", "--accent"],
  ["button :hover", "--on-fill", "--accent-hover"],
  ["button :disabled / in flight", "--inactive-ink", "--inactive-bg"],
  ["ghost button", "--accent", CARD],
  ["ghost button :hover", "--accent-hover", "--accent-soft"],
  ["danger button", "--on-fill", "--danger"],
  ["danger ghost button", "--danger", CARD],
  ["danger ghost button :hover", "--danger", "--danger-soft"],
  ["copied button", "--on-fill", "--ok"],
  ["link", "--accent", CARD],
  ["link :hover", "--accent-hover", CARD],
  ["link / eyebrow on the page background", "--accent", BODY],
  ["link in a warning", "--accent", "--warn-soft"],
  ["link in an error", "--accent", "--danger-soft"],
  ["link in a note", "--accent", "--info-soft"],
  ["navigation", "--ink-2", TOPBAR],
  ["navigation :hover", "--ink", "--accent-soft"],
  ["navigation, current page", "--on-fill", "--accent"],
  ["hint / muted on a card", "--muted", CARD],
  ["hint / muted on the page background", "--muted", BODY],
  ["hint in a warning", "--muted", "--warn-soft"],
  ["hint in an error", "--muted", "--danger-soft"],
  ["disabled input", "--muted", "--input-disabled"],
  ["pill", "--ink-2", "--pill-bg"],
  ["pill ok", "--ok", "--ok-soft"],
  ["pill off", "--off-ink", "--off-bg"],
  ["pill failed", "--danger", "--danger-soft"],
  ["pill warn", "--warn", "--warn-soft"],
  ["pill busy", "--busy-ink", "--info-soft"],
  ["switched-off slot: hint", "--muted", "--inactive-bg"],
  ["switched-off slot: link", "--accent", "--inactive-bg"],
  ["password toggle :hover", "--accent", "--accent-soft"],
  ["error message / toast", "--danger-ink", "--danger-soft"],
  ["success message / toast", "--ok-ink", "--ok-soft"],
  ["warning", "--warn-ink", "--warn-soft"],
  ["note", "--info-ink", "--info-soft"],
  ["attention banner", "--attention-ink", "--danger-soft"],
  ["text on a card", "--ink", CARD],
  ["text in a dialog, a result card, a table card on a phone", "--ink", "--surface"],
  ["link in a dialog or on a result card", "--accent", "--surface"],
  ["hint in a dialog", "--muted", "--surface"],
  ["slot in trouble", "--trouble-ink", "--warn-soft"],
  ["skip link", "--on-fill", "--accent"],
];

for (const [theme, palette] of [
  ["light", LIGHT],
  ["dark", DARK],
] as const) {
  describe(`contrast of every state, ${theme} theme (WCAG AA)`, () => {
    for (const [name, fg, bg] of TEXT) {
      test(`${name}: at least 4.5:1`, () => {
        vars = palette;
        expect(worst(fg, bg)).toBeGreaterThanOrEqual(4.5);
      });
    }
    test("the focus ring: at least 3:1 on cards, the page and switched-off slots", () => {
      vars = palette;
      for (const bg of [CARD, BODY, "--inactive-bg"] as const)
        expect(worst("--focus", bg)).toBeGreaterThanOrEqual(3);
    });
  });
}

describe("the stylesheet", () => {
  test("the system's dark preference gets exactly the dark theme the switch chooses", () => {
    const media = css.slice(css.indexOf("@media (prefers-color-scheme: dark)"));
    const system = variables(media.slice(0, media.indexOf("}")));
    expect(DARK_OWN.size).toBeGreaterThan(20);
    expect(Object.fromEntries(system)).toEqual(Object.fromEntries(DARK_OWN));
  });
  test("the dark palette sets every colour the light one does", () => {
    const missing = [...LIGHT.keys()].filter((k) => !DARK_OWN.has(k));
    expect(missing).toEqual([]);
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
