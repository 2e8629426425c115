/** The hostile cases on the sign-in routes: oversized and malformed bodies, injected usernames, open redirects through `next`. */
import { expect } from "bun:test";
import { LOGIN_BODY_LIMIT } from "../../src/modules/front-door/index";
import { chunkedBody } from "../helpers/hostile";
import { big, type Case } from "../helpers/hostile-suite";

export const LOGIN_CASES: Case[] = [
  {
    name: "a 100 KB JSON login",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg", password: big(100_000) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a login just over the limit",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg", password: big(LOGIN_BODY_LIMIT) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a chunked login body",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: () => chunkedBody(new TextEncoder().encode(JSON.stringify({ username: "serg", password: "x" }))),
    status: 411,
    code: "length_required",
  },
  {
    name: "malformed JSON",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: '{"username":',
    status: 400,
  },
  {
    name: "a JSON array",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: "[1,2]",
    status: 400,
  },
  {
    name: "a 65-character username",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: big(65), password: "x" }),
    status: 400,
  },
  {
    name: "a 300-character password",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg", password: big(300) }),
    status: 400,
  },
  {
    name: "NUL in the username",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg\u0000", password: "x" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "CR/LF in the username",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg\r\nX-Injected: 1", password: "x" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "a wrong password",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg", password: "wrong" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "an unknown user",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "admin" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "username as an object",
    path: "/api/login",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: { $ne: null }, password: "x" }),
    status: 400,
  },
  {
    name: "a 100 KB login form (the page)",
    path: "/login",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `username=serg&password=${big(100_000)}`,
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a wrong password on the page, with a TAB redirect in next",
    path: "/login",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "username=serg&password=wrong&next=%2F%09%2Fevil.example",
    status: 401,
    check: (_res, text) => {
      expect(text).toContain('name="next" value="/"');
      expect(text).not.toContain("evil.example");
    },
  },
  {
    name: "the login page with next=/.//evil.example (normalised into //evil)",
    path: "/login?next=%2F.%2F%2Fevil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with next=/..//evil.example (normalised into //evil)",
    path: "/login?next=%2F..%2F%2Fevil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with next=/%2e//evil.example (normalised into //evil)",
    path: "/login?next=%2F%252e%2F%2Fevil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with next=/.///evil.example (normalised into //evil)",
    path: "/login?next=%2F.%2F%2F%2Fevil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with next=//evil.example",
    path: "/login?next=//evil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with CR/LF in next",
    path: "/login?next=/%0d%0aSet-Cookie:%20x=1",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with a backslash next",
    path: "/login?next=/%5Cevil.example",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "the login page with an absolute next",
    path: "/login?next=https://evil.example/",
    status: 200,
    check: (_r, t) => expect(t).toContain('name="next" value="/"'),
  },
  {
    name: "a 100 KB logout",
    path: "/logout",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: big(100_000),
    status: 413,
    code: "payload_too_large",
  },
];
