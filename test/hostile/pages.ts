/** The hostile cases on the admin pages: anonymous access, NUL and CR/LF in ids, forged cookies, oversized form posts. */
import { expect } from "bun:test";
import { big, type Case, forgedToken } from "../helpers/hostile-suite";

export const PAGE_CASES: Case[] = [
  {
    name: "the dashboard, anonymous",
    path: "/",
    status: 302,
    check: (r) => expect(r.headers.get("location")).toStartWith("/login"),
  },
  {
    name: "settings, anonymous",
    path: "/settings",
    status: 302,
    check: (r) => expect(r.headers.get("location")).toStartWith("/login"),
  },
  { name: "a slot page with NUL", path: "/slots/slot-001%00", status: 404, code: "not_found" },
  { name: "a slot page with CR/LF", path: "/slots/slot-001%0d%0a", status: 404, code: "not_found" },
  {
    name: "a page with a forged session cookie",
    path: "/jobs",
    headers: { cookie: `pc_session=${forgedToken("HS256", "x")}` },
    status: 302,
  },
  {
    name: "an anonymous page form post of 100 KB",
    method: "POST",
    path: "/settings",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: big(100_000),
    status: 413,
    code: "payload_too_large",
  },
];
