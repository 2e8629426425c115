/** The hostile cases on the admin API: anonymous bodies, forged tokens, header injection through settings, NUL ids, CSRF, bombs as templates and test photos. */

import { chunkedBody, jpegBomb } from "../helpers/hostile";
import { big, type Case, forgedToken } from "../helpers/hostile-suite";
import { makeHeic } from "../helpers/images";

export const ADMIN_CASES: Case[] = [
  {
    name: "an anonymous 1 MB settings body",
    method: "PUT",
    path: "/api/settings",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ public_base_url: big(1_000_000) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "an anonymous chunked settings body",
    method: "PUT",
    path: "/api/settings",
    headers: { "content-type": "application/json" },
    body: () => chunkedBody(new TextEncoder().encode("{}")),
    status: 411,
    code: "length_required",
  },
  {
    name: "an anonymous small settings body",
    method: "PUT",
    path: "/api/settings",
    headers: { "content-type": "application/json" },
    body: "{}",
    status: 401,
    code: "unauthorized",
  },
  {
    name: "a token with alg none",
    path: "/api/settings",
    headers: { authorization: `Bearer ${forgedToken("none", null)}` },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "a token signed with another key",
    path: "/api/settings",
    headers: { authorization: `Bearer ${forgedToken("HS256", "not-our-key")}` },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "a forged token does not lift the anonymous body limit",
    method: "PUT",
    path: "/api/slots/slot-001",
    headers: {
      authorization: `Bearer ${forgedToken("HS256", "not-our-key")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ name: big(100_000) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "CR/LF in a provider key",
    method: "PUT",
    path: "/api/settings",
    auth: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ provider_keys: { gemini: { api_key: "AIza\r\nX-Evil: 1" } } }),
    status: 422,
    code: "validation_failed",
  },
  {
    name: "a TAB in the public base URL",
    method: "PUT",
    path: "/api/settings",
    auth: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ public_base_url: "https://photos.example.com/\tx" }),
    status: 422,
    code: "validation_failed",
  },
  {
    name: "a LF in a new ingest password (nothing changes)",
    method: "PUT",
    path: "/api/settings",
    auth: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ingest_password: { value: "abcdef\nghi" }, sync_response_seconds: 30 }),
    status: 422,
    code: "validation_failed",
  },
  {
    name: "a NUL in a slot name",
    method: "PUT",
    path: "/api/slots/slot-003",
    auth: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Booth\u0000A" }),
    status: 400,
  },
  {
    name: "stats of a slot id with NUL (the issue's 500)",
    path: "/api/stats/slot-001%00",
    auth: true,
    status: 404,
    code: "not_found",
  },
  { name: "a job id with NUL", path: "/api/jobs/%00", auth: true, status: 404, code: "not_found" },
  {
    name: "a job filter with NUL",
    path: "/api/jobs?status=%00",
    auth: true,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "cancelling an unknown job",
    method: "POST",
    path: `/api/jobs/${crypto.randomUUID()}/cancel`,
    auth: true,
    status: 404,
  },
  {
    name: "an unknown slot",
    method: "PUT",
    path: "/api/slots/slot-999",
    auth: true,
    headers: { "content-type": "application/json" },
    body: "{}",
    status: 404,
  },
  {
    name: "sync seconds as text",
    method: "PUT",
    path: "/api/settings",
    auth: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sync_response_seconds: "abc" }),
    status: 422,
    code: "validation_failed",
  },
  {
    name: "a __proto__ key in settings",
    method: "PUT",
    path: "/api/settings",
    auth: true,
    headers: { "content-type": "application/json" },
    body: '{"__proto__":{"admin":true}}',
    status: 422,
    code: "validation_failed",
  },
  {
    name: "a cookie-authenticated change from another site",
    method: "PUT",
    path: "/api/settings",
    cookie: true,
    headers: {
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
      "content-type": "application/json",
    },
    body: JSON.stringify({ sync_response_seconds: 30 }),
    status: 403,
    code: "csrf_refused",
  },
  {
    name: "a fake HEIC template",
    path: "/api/slots/slot-003/templates",
    auth: true,
    body: () => {
      const f = new FormData();
      f.append("role", "style");
      f.append("file", new File([makeHeic() as Uint8Array<ArrayBuffer>], "t.heic"));
      return f;
    },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a decompression bomb as a test photo",
    path: "/api/slots/slot-001/test-run",
    auth: true,
    body: () => {
      const f = new FormData();
      f.append("test_image", new File([jpegBomb(16000, 16000) as Uint8Array<ArrayBuffer>], "bomb.jpg"));
      return f;
    },
    status: 413,
    code: "image_too_large",
  },
];
