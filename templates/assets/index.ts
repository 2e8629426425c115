/**
 * The UI's static files, embedded in the compiled binary by `import … with { type: "file" }` (no
 * directory scanning, no CDN): the studio LAN may have no internet. URLs carry a content hash so
 * browsers may cache them for good.
 */
import { readFileSync } from "node:fs";
import appCss from "./app.css" with { type: "file" };
import appJs from "./app.js" with { type: "file" };
import favicon from "./favicon.svg" with { type: "file" };
import htmx from "./vendor/htmx.min.js" with { type: "file" };

export interface Asset {
  path: string;
  type: string;
  hash: string;
}

function asset(path: string, type: string): Asset {
  let hash = "0";
  try {
    hash = Bun.hash(readFileSync(path)).toString(36).slice(0, 10);
  } catch {
    // unreadable at start-up: served anyway, just without a content hash
  }
  return { path, type, hash };
}

export const ASSETS: Record<string, Asset> = {
  "app.css": asset(appCss, "text/css; charset=utf-8"),
  "app.js": asset(appJs, "text/javascript; charset=utf-8"),
  "htmx.min.js": asset(htmx, "text/javascript; charset=utf-8"),
  "favicon.svg": asset(favicon, "image/svg+xml"),
};

/** `/assets/<name>?v=<content hash>`. */
export function assetUrl(name: keyof typeof ASSETS & string): string {
  const a = ASSETS[name];
  return `/assets/${name}?v=${a?.hash ?? "0"}`;
}
