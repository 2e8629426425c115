import { describe, expect, test } from "bun:test";
import { ManualClock, sleepOn, sleepWithin, systemClock } from "../src/lib/clock";

/** A few turns of the event loop (0 ms timers): what was due on its own (a timer set to 0, a settled promise) has run. */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

describe("ManualClock timers", () => {
  test("fire when advance() or set() reaches them, in due order, and never by themselves", async () => {
    const clock = new ManualClock(new Date("2026-11-30T10:00:00Z"));
    const fired: string[] = [];
    clock.setTimer(5_000, () => fired.push("5s"));
    clock.setTimer(1_000, () => fired.push("1s"));
    const cancel = clock.setTimer(2_000, () => fired.push("cancelled"));
    await turns();
    expect(fired).toEqual([]);
    cancel();
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(["1s"]);
    clock.set(new Date("2026-11-30T10:01:00Z"));
    expect(fired).toEqual(["1s", "5s"]);
    expect(clock.pendingTimers).toBe(0);
  });

  test("a timer already due fires on the next turn", async () => {
    const clock = new ManualClock();
    let fired = false;
    clock.setTimer(0, () => {
      fired = true;
    });
    expect(fired).toBe(false);
    await turns();
    expect(fired).toBe(true);
  });

  test("sleepOn waits for the clock; an abort ends it at once", async () => {
    const clock = new ManualClock();
    let done = false;
    const slept = sleepOn(clock, 60_000).then(() => {
      done = true;
    });
    await turns();
    expect(done).toBe(false);
    clock.advance(60_000);
    await slept;
    expect(done).toBe(true);

    const abort = new AbortController();
    const aborted = sleepOn(clock, 60_000, abort.signal);
    abort.abort();
    await aborted;
    expect(clock.pendingTimers).toBe(0);
  });

  test("sleepWithin ends at the clock's deadline or after its real pause, whichever is first", async () => {
    const clock = new ManualClock();
    const deadline = new Date(clock.now().getTime() + 10_000);
    const t0 = performance.now();
    await sleepWithin(clock, 30, deadline);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(clock.pendingTimers).toBe(0);

    const byClock = sleepWithin(clock, 60_000, deadline);
    clock.advance(10_000);
    await byClock;
  });

  test("a labelled wait listed in `elapse` moves the clock by itself; other timers still wait", async () => {
    const start = new Date("2026-11-30T10:00:00Z");
    const clock = new ManualClock(start, { elapse: ["provider.backoff"] });
    let deadline = false;
    clock.setTimer(10_000, () => {
      deadline = true;
    });
    await sleepOn(clock, 3_000, undefined, "provider.backoff");
    expect(clock.now().getTime() - start.getTime()).toBe(3_000);
    expect(deadline).toBe(false);
    await sleepOn(clock, 8_000, undefined, "provider.backoff");
    expect(deadline).toBe(true); // the clock passed the deadline on its way
    const other = sleepOn(clock, 1_000, undefined, "something.else");
    let done = false;
    other.then(() => {
      done = true;
    });
    await turns();
    expect(done).toBe(false);
    clock.advance(1_000);
    await other;
  });

  test("whenTimerSet resolves when the product starts waiting on the clock", async () => {
    const clock = new ManualClock();
    const seen = clock.whenTimerSet(800);
    clock.setTimer(500, () => {});
    let resolved = false;
    seen.then(() => {
      resolved = true;
    });
    await turns();
    expect(resolved).toBe(false);
    clock.setTimer(800, () => {});
    await seen;
  });

  test("systemClock timers are real timers", async () => {
    const t0 = performance.now();
    await new Promise<void>((resolve) => systemClock.setTimer(5, resolve));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4);
    let fired = false;
    const cancel = systemClock.setTimer(5, () => {
      fired = true;
    });
    cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(15, resolve));
    expect(fired).toBe(false);
  });
});
