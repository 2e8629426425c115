/** Hostile input on the public routes (test/hostile/public.ts holds the cases), and an expired result. */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { job } from "../src/db/schema";
import { dslrForm } from "./helpers/app";
import { describeCases, nextAddress, useHostileApp } from "./helpers/hostile-suite";
import { PUBLIC_CASES } from "./hostile/public";

const h = useHostileApp();

describeCases("hostile input on public routes", PUBLIC_CASES);

describe("the issue's findings that need more than one request", () => {
  test("an expired result's page, file and QR answer 410", async () => {
    const res = await fetch(`${h.app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { "x-forwarded-for": nextAddress() },
      body: dslrForm(h.photo),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-job-id")!;
    expect((await fetch(`${h.app.url}/r/${id}/qr.svg`)).status).toBe(200);
    // The result's retention passes on the app's clock (and comes back for the other tests).
    const [row] = await h.app.db.select().from(job).where(eq(job.id, id));
    const now = h.clock.now();
    h.clock.set(new Date(row!.resultExpiresAt!.getTime() + 1000));
    try {
      const qr = await fetch(`${h.app.url}/r/${id}/qr.svg`);
      expect(qr.status).toBe(410);
      expect(qr.headers.get("content-type")).not.toContain("svg");
      expect((await fetch(`${h.app.url}/public/results/${id}`)).status).toBe(410);
      expect((await fetch(`${h.app.url}/r/${id}`)).status).toBe(410);
    } finally {
      h.clock.set(now);
    }
  });
});
