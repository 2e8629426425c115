/**
 * Holds a JSON answer against the OpenAPI document the server serves (/api/openapi.json): the
 * status must be documented for the route, with a JSON schema, and the body must match it. A small
 * walker over the JSON-schema subset the document uses (type, anyOf, enum/const, properties,
 * required, additionalProperties, patternProperties, items, pattern, formats uuid and date-time,
 * length and minimum bounds) — enough to see a field the document leaves out, renames or types
 * differently.
 */
import { expect } from "bun:test";
import type { Api } from "./admin";

type Schema = Record<string, unknown>;
export interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>
  >;
}

const documents = new Map<string, Promise<OpenApiDocument>>();

function documentOf(baseUrl: string): Promise<OpenApiDocument> {
  let doc = documents.get(baseUrl);
  if (!doc) {
    doc = fetch(`${baseUrl}/api/openapi.json`).then((r) => r.json() as Promise<OpenApiDocument>);
    documents.set(baseUrl, doc);
  }
  return doc;
}

/** The document's path template for a concrete path (`/api/jobs/abc` → `/api/jobs/{id}`). */
export function routeTemplate(doc: OpenApiDocument, method: string, path: string): string | undefined {
  const bare = path.split("?")[0]!;
  const m = method.toLowerCase();
  if (doc.paths[bare]?.[m]) return bare;
  const segments = bare.split("/");
  return Object.keys(doc.paths).find((template) => {
    if (!doc.paths[template]?.[m]) return false;
    const parts = template.split("/");
    return (
      parts.length === segments.length &&
      parts.every((p, i) => (p.startsWith("{") && p.endsWith("}") ? segments[i] !== "" : p === segments[i]))
    );
  });
}

/** What is wrong with `value` under `schema`, as "at: problem" lines (empty: it matches). */
export function schemaProblems(schema: Schema, value: unknown, at = "body"): string[] {
  if (schema.anyOf) {
    const branches = (schema.anyOf as Schema[]).map((s) => schemaProblems(s, value, at));
    if (branches.some((b) => b.length === 0)) return [];
    return [`${at}: matches none of anyOf (${branches.map((b) => b[0]).join(" | ")})`];
  }
  if ("const" in schema && value !== schema.const) return [`${at}: is not ${JSON.stringify(schema.const)}`];
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  }
  if (schema.type !== undefined) {
    const types = ([] as string[]).concat(schema.type as string | string[]);
    if (!types.some((t) => hasType(value, t))) return [`${at}: ${describe(value)} is not ${types.join("|")}`];
  }
  const out: string[] = [];
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
      out.push(`${at}: shorter than ${schema.minLength}`);
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      out.push(`${at}: longer than ${schema.maxLength}`);
    }
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
      out.push(`${at}: does not match ${schema.pattern}`);
    }
    if (
      schema.format === "uuid" &&
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
    ) {
      out.push(`${at}: not a uuid`);
    }
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) out.push(`${at}: not a date-time`);
  }
  if (typeof value === "number" && typeof schema.minimum === "number" && value < schema.minimum) {
    out.push(`${at}: below ${schema.minimum}`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      out.push(...schemaProblems(schema.items as Schema, v, `${at}[${i}]`));
    });
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in obj)) out.push(`${at}.${key}: missing`);
    }
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) {
        out.push(...schemaProblems(props[key], v, `${at}.${key}`));
        continue;
      }
      const byPattern = patterns.find(([p]) => new RegExp(p, "u").test(key));
      if (byPattern) out.push(...schemaProblems(byPattern[1], v, `${at}.${key}`));
      else if (schema.additionalProperties === false) out.push(`${at}.${key}: not in the document`);
      else if (typeof schema.additionalProperties === "object") {
        out.push(...schemaProblems(schema.additionalProperties as Schema, v, `${at}.${key}`));
      }
    }
  }
  return out;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/** What is wrong with this answer by the document (empty: it matches). */
export async function openApiProblems(
  app: { url: string },
  method: string,
  path: string,
  status: number,
  body: unknown,
): Promise<string[]> {
  const doc = await documentOf(app.url);
  const template = routeTemplate(doc, method, path);
  if (!template) return [`${method} ${path}: no such route in the document`];
  const responses = doc.paths[template]![method.toLowerCase()]!.responses ?? {};
  const response = responses[String(status)];
  if (!response) return [`${method} ${template}: status ${status} is not documented`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return [`${method} ${template} ${status}: no JSON schema in the document`];
  // Items of a list drift alike: one line per problem, whatever the index.
  return [...new Set(schemaProblems(schema, body).map((p) => p.replace(/\[\d+\]/g, "[]")))];
}

/** Expects a JSON answer to match the document: its status documented, its body the schema's. */
export async function expectMatchesOpenApi(
  app: { url: string },
  method: string,
  path: string,
  status: number,
  body: unknown,
): Promise<void> {
  const problems = await openApiProblems(app, method, path, status, body);
  const doc = await documentOf(app.url);
  const key = `${method.toUpperCase()} ${routeTemplate(doc, method, path) ?? path} ${status}`;
  expect({ answer: key, problems }).toEqual({ answer: key, problems: [] });
}

/** Holds the answer against the document when it is JSON; returns it unread. */
export async function expectResponseMatchesOpenApi(
  app: { url: string },
  method: string,
  path: string,
  res: Response,
): Promise<Response> {
  if (res.headers.get("content-type")?.includes("application/json")) {
    await expectMatchesOpenApi(app, method, path, res.status, await res.clone().json());
  }
  return res;
}

/** An admin API call (helpers/admin.ts `api`) whose every JSON answer is held against the document. */
export function checkedApi(app: { url: string }, call: Api): Api {
  return async (method, path, options) =>
    expectResponseMatchesOpenApi(app, method, path, await call(method, path, options));
}

/** `fetch` of a path on the app whose JSON answer is held against the document. */
export async function checkedFetch(
  app: { url: string },
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const res = await fetch(`${app.url}${path}`, init);
  return expectResponseMatchesOpenApi(app, init.method ?? "GET", path, res);
}
