/**
 * Debian's Chromium driven by playwright-core (no browser downloads). If Chromium is missing the
 * browser tests fail with a message saying how to install it — they never skip silently.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dir, "..", "..", "test-artifacts");

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it. ` +
        "Install it with `apt-get install -y chromium` (CI does), or set CHROMIUM_PATH.",
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Screenshots are taken when asked for (`TEST_SCREENSHOTS=1`): they are for a person to look at. */
export const SCREENSHOTS = process.env.TEST_SCREENSHOTS === "1";

/**
 * Saves a full-page screenshot under test-artifacts/ (gitignored), as JPEG, when SCREENSHOTS: they
 * assert nothing, and Chromium spent 5.3 s of an every-page test's 15 s capturing and encoding its 28
 * (8.5 s as PNG).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.jpg`), fullPage: true, quality: 80, type: "jpeg" });
}
