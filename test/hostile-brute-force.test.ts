/**
 * Password guessing in parallel from one address: the throttles verify only a few guesses and
 * answer the rest 429, without slowing the right password down or touching other addresses.
 */
import { describe, expect, test } from "bun:test";
import { dslrForm, INGEST_PASSWORD } from "./helpers/app";
import { snapshot } from "./helpers/hostile";
import { form, goodFields, nextAddress, useHostileApp } from "./helpers/hostile-suite";

const h = useHostileApp();

describe("the issue's findings that need more than one request", () => {
  test("200 parallel wrong ingest passwords from one address: at most 10 verified, the rest 429", async () => {
    const from = nextAddress();
    const before = await snapshot(h.app);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${h.app.url}/ingest/slot-001`, {
          method: "POST",
          headers: { "x-forwarded-for": from },
          body: form({ ...goodFields(), password: `guess-${i}` }),
        }).then(async (r) => [r.status, (await r.json()).error.code] as const),
      ),
    );
    const count = (s: number) => answers.filter(([st]) => st === s).length;
    expect(count(401)).toBeLessThanOrEqual(10);
    expect(count(401) + count(429)).toBe(200);
    expect(answers.filter(([s]) => s === 429).every(([, c]) => c === "too_many_attempts")).toBe(true);
    expect(await snapshot(h.app)).toEqual(before);
    // Another address is not affected.
    const ok = await fetch(`${h.app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { "x-forwarded-for": nextAddress() },
      body: dslrForm(h.photo),
    });
    expect(ok.status).toBe(200);
  });

  test("12 parallel right passwords from one address after a rotation: one verification, all 200", async () => {
    await h.app.runtime.settings.setIngestPassword(INGEST_PASSWORD, "test"); // new hash: the shortcut is gone
    const from = nextAddress();
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${h.app.url}/ingest/slot-001`, {
          method: "POST",
          headers: { "x-forwarded-for": from },
          body: dslrForm(h.photo),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
  });

  test("50 parallel wrong logins for one user and address: at most 5 verified, the rest 429", async () => {
    const from = nextAddress();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${h.app.url}/api/login`, {
          method: "POST",
          headers: { "x-forwarded-for": from, "content-type": "application/json" },
          body: JSON.stringify({ username: "igor", password: "wrong-guess" }),
        }).then((r) => r.status),
      ),
    );
    expect(answers.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(answers.filter((s) => s === 429).length).toBeGreaterThanOrEqual(45);
  });
});
