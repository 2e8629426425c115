/** The hostile cases on ingest: unknown and malformed slot ids, size limits, broken multipart, metadata abuse, wrong passwords, non-images and decompression bombs. */
import { expect } from "bun:test";
import { dslrForm, INGEST_PASSWORD } from "../helpers/app";
import { chunkedBody, jpegBomb, pngBomb, rawMultipart, webpBomb } from "../helpers/hostile";
import { B, big, type Case, form, goodFields, hostile, multipartHeaders } from "../helpers/hostile-suite";
import { makeApng, makeHeic, makePng } from "../helpers/images";

export const INGEST_CASES: Case[] = [
  {
    name: "unknown slot",
    path: "/ingest/slot-016",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "slot_not_found",
  },
  {
    name: "slot-000",
    path: "/ingest/slot-000",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "slot_not_found",
  },
  {
    name: "NUL in the slot id (the issue's 500)",
    path: "/ingest/slot-001%00",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "not_found",
  },
  {
    name: "NUL in the slot id on the alias",
    path: "/api/ingest/slot-001%00",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "not_found",
  },
  {
    name: "LF in the slot id",
    path: "/ingest/slot-001%0a",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "not_found",
  },
  {
    name: "TAB in the slot id",
    path: "/ingest/slot%09001",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "not_found",
  },
  {
    name: "traversal in the slot id",
    path: "/ingest/..%2f..%2fetc%2fpasswd",
    body: () => dslrForm(hostile.photo),
    status: 404,
  },
  {
    name: "a 5000-character slot id",
    path: `/ingest/${big(5000)}`,
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "slot_not_found",
  },
  {
    name: "broken percent escape in the path",
    path: "/ingest/slot-%zz",
    body: () => dslrForm(hostile.photo),
    status: 404,
  },
  {
    name: "disabled slot",
    path: "/ingest/slot-015",
    body: () => dslrForm(hostile.photo),
    status: 404,
    code: "slot_disabled",
  },
  {
    name: "over the slot's 1 MB limit (Content-Length)",
    path: "/ingest/slot-014",
    body: () => dslrForm(new Uint8Array(1_200_000).fill(0xff)),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "over the limit with no Content-Length (chunked)",
    path: "/ingest/slot-014",
    headers: multipartHeaders,
    body: () =>
      chunkedBody(
        rawMultipart(B, [{ name: "fileToUpload", filename: "a.jpg", body: new Uint8Array(1_300_000) }]),
        20,
      ),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "wrong password first, then an over-limit photo (chunked): 413 before 401",
    path: "/ingest/slot-014",
    headers: multipartHeaders,
    body: () =>
      chunkedBody(
        rawMultipart(B, [
          { name: "password", body: "wrong" },
          { name: "fileToUpload", filename: "a.jpg", body: new Uint8Array(1_300_000) },
        ]),
        20,
      ),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a JSON body",
    path: "/ingest/slot-001",
    headers: { "content-type": "application/json" },
    body: "{}",
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "no Content-Type",
    path: "/ingest/slot-001",
    body: new Uint8Array([1, 2, 3]),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "multipart without a boundary",
    path: "/ingest/slot-001",
    headers: { "content-type": "multipart/form-data" },
    body: "x",
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "empty boundary",
    path: "/ingest/slot-001",
    headers: { "content-type": "multipart/form-data; boundary=" },
    body: "x",
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "truncated multipart (no closing boundary)",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () =>
      rawMultipart(
        B,
        [
          { name: "password", body: INGEST_PASSWORD },
          { name: "fileToUpload", filename: "a.jpg", body: hostile.photo },
        ],
        false,
      ),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "a different boundary than declared",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () => rawMultipart("other", [{ name: "fileToUpload", filename: "a.jpg", body: hostile.photo }]),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "garbage under a multipart type",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: "\u0000\u0001garbage\r\n\r\n",
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "no image part",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), null),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "an empty image part",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), new Uint8Array(0)),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "a part with no Content-Disposition",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () => Buffer.concat([Buffer.from(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--\r\n`)]),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "part headers of 20 KB",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () => rawMultipart(B, [{ name: "x", headers: `X-Junk: ${big(20_000)}\r\n`, body: "1" }]),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "257 empty fields (over the cap on parts)",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () =>
      rawMultipart(
        B,
        Array.from({ length: 257 }, () => ({ name: "f", body: "" })),
      ),
    status: 413,
    code: "payload_too_large",
    check: (_, text) => {
      expect(JSON.parse(text).error.details).toEqual({ max_parts: 256 });
    },
  },
  {
    name: "a 71-character boundary",
    path: "/ingest/slot-001",
    headers: { "content-type": `multipart/form-data; boundary=${big(71, "b")}` },
    body: () =>
      rawMultipart(big(71, "b"), [
        { name: "password", body: INGEST_PASSWORD },
        { name: "fileToUpload", filename: "a.jpg", body: hostile.photo },
      ]),
    status: 400,
    code: "invalid_payload",
    check: (_, text) => {
      expect(JSON.parse(text).error.message).toContain("71 characters");
    },
  },
  {
    name: "70 KB of text fields",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), notes: big(70_000) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a 65-character metadata name",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), [big(65, "k")]: "v" }),
    status: 400,
    code: "invalid_payload",
    check: async (_res, text) => expect(JSON.parse(text).error.details.max_key_length).toBe(64),
  },
  {
    name: "a 1 MB metadata name (the issue's finding)",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), [big(1_000_000, "k")]: "v" }),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "metadata over 16 KB in all",
    path: "/ingest/slot-001",
    body: () =>
      form({
        ...goodFields(),
        ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, big(1500)])),
      }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "NUL in a metadata value",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), user_id: "Acer\u0000x" }),
    status: 400,
    code: "invalid_payload",
  },
  {
    name: "wrong password, field before the photo",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), password: "wrong" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "wrong password, field after the photo (spooled, then removed)",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), password: "wrong" }, hostile.photo, true),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "no password at all",
    path: "/ingest/slot-001",
    body: () => {
      const f = goodFields() as Record<string, string>;
      delete f.password;
      return form(f);
    },
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "an empty password",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), password: "" }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "a wrong ?password= and no field",
    path: "/ingest/slot-001?password=nope",
    body: () => {
      const f = goodFields() as Record<string, string>;
      delete f.password;
      return form(f);
    },
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "NUL in the password",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), password: `${INGEST_PASSWORD}\u0000` }),
    status: 401,
    code: "invalid_credentials",
  },
  {
    name: "a 100 KB password",
    path: "/ingest/slot-001",
    body: () => form({ ...goodFields(), password: big(100_000) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "NUL in the query string",
    path: "/ingest/slot-001?password=%00",
    body: () => dslrForm(hostile.photo),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "not an image",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), new TextEncoder().encode("hello, this is text")),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a fake HEIC on a default slot (the issue's 500 with a job row)",
    path: "/ingest/slot-001",
    body: () => {
      const heic = new Uint8Array(64);
      heic.set(new TextEncoder().encode("\0\0\0\x18ftypheic\0\0\0\0mif1heic"), 0);
      return form(goodFields(), heic);
    },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a real HEIC header on a local slot → 415 with a hint",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), makeHeic()),
    status: 415,
    code: "unsupported_media_type",
    check: (_res, text) => expect(JSON.parse(text).error.details.hint).toContain("JPEG"),
  },
  {
    name: "JPEG magic then junk",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5])),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "PNG signature only",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), makePng().subarray(0, 8)),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "RIFF/WEBP header only",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a JPEG cut right after its scan header: Bun.Image refuses, honestly",
    path: "/ingest/slot-001",
    body: () => {
      const { photo } = hostile;
      const sos = photo.findIndex((b, i) => b === 0xff && photo[i + 1] === 0xda);
      return form(goodFields(), photo.slice(0, sos + 2));
    },
    status: 415,
    code: "unsupported_media_type",
    check: (_res, text) => expect(JSON.parse(text).error.message).toContain("could not be read"),
  },
  {
    name: "a 535-byte JPEG declaring 16000×16000 (the issue's bomb)",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), jpegBomb(16000, 16000)),
    status: 413,
    code: "image_too_large",
    check: (_res, text) => {
      const d = JSON.parse(text).error.details;
      expect([d.width, d.height, d.max_pixels]).toEqual([16000, 16000, 64_000_000]);
    },
  },
  {
    name: "a PNG declaring 20000×20000",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), pngBomb(20000, 20000)),
    status: 413,
    code: "image_too_large",
  },
  {
    name: "a WebP declaring 16383×16383",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), webpBomb(16383, 16383)),
    status: 413,
    code: "image_too_large",
  },
  {
    name: "an animated WebP (refused at upload, not a job that fails later)",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), hostile.animatedWebp),
    status: 415,
    code: "unsupported_media_type",
    check: (_res, text) => expect(JSON.parse(text).error.message).toContain("animated"),
  },
  {
    name: "an animated PNG (APNG)",
    path: "/ingest/slot-001",
    body: () => form(goodFields(), makeApng()),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a HEIC declaring 12000×9000 on a Gemini slot",
    path: "/ingest/slot-002",
    body: () => form(goodFields(), makeHeic(12000, 9000)),
    status: 413,
    code: "image_too_large",
  },
  {
    name: "a filename with traversal and a wrong password",
    path: "/ingest/slot-001",
    headers: multipartHeaders,
    body: () =>
      rawMultipart(B, [
        { name: "password", body: "wrong" },
        { name: "fileToUpload", filename: "../../../../etc/passwd", body: hostile.photo },
      ]),
    status: 401,
    code: "invalid_credentials",
  },
  { name: "GET on the ingest URL", path: "/ingest/slot-001", status: 404, code: "not_found" },
];
