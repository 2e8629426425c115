/** The OpenAPI check the API tests lean on (helpers/openapi.ts) sees a drift when there is one. */
import { expect, test } from "bun:test";
import { routeTemplate, schemaProblems } from "./helpers/openapi";

const job = {
  type: "object",
  required: ["id", "status", "finished_at"],
  properties: {
    id: { type: "string", format: "uuid" },
    status: { type: "string", enum: ["queued", "done"] },
    finished_at: { anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
    tags: { type: "array", items: { type: "string" } },
  },
  additionalProperties: false,
};

test("a body that matches has no problems", () => {
  const body = { id: crypto.randomUUID(), status: "done", finished_at: null, tags: ["a"] };
  expect(schemaProblems(job, body)).toEqual([]);
});

test("a missing, mistyped, renamed or extra field is named", () => {
  const body = { id: "nope", status: "lost", finished_at: 5, tags: [1], extra: true };
  expect(schemaProblems(job, body)).toEqual([
    "body.id: not a uuid",
    'body.status: "lost" is not one of ["queued","done"]',
    "body.finished_at: matches none of anyOf (body.finished_at: a number is not string | body.finished_at: a number is not null)",
    "body.tags[0]: a number is not string",
    "body.extra: not in the document",
  ]);
  expect(schemaProblems(job, { id: crypto.randomUUID(), status: "done" })).toEqual([
    "body.finished_at: missing",
  ]);
});

test("a concrete path finds its template", () => {
  const doc = { paths: { "/api/jobs": { get: {} }, "/api/jobs/{id}": { get: {}, delete: {} } } };
  expect(routeTemplate(doc, "GET", "/api/jobs?status=done")).toBe("/api/jobs");
  expect(routeTemplate(doc, "DELETE", "/api/jobs/abc")).toBe("/api/jobs/{id}");
  expect(routeTemplate(doc, "POST", "/api/jobs/abc")).toBeUndefined();
});
