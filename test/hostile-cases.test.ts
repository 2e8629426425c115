/** The hostile-input suite as a whole (test/hostile-*.test.ts): its size. */
import { expect, test } from "bun:test";
import { ADMIN_CASES } from "./hostile/admin";
import { INGEST_CASES } from "./hostile/ingest";
import { LOGIN_CASES } from "./hostile/login";
import { PAGE_CASES } from "./hostile/pages";
import { PUBLIC_CASES } from "./hostile/public";

test("the suite has at least 80 cases", () => {
  const n =
    INGEST_CASES.length + LOGIN_CASES.length + ADMIN_CASES.length + PUBLIC_CASES.length + PAGE_CASES.length;
  expect(n).toBeGreaterThanOrEqual(80);
});
