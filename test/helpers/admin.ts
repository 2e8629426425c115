/** Logging in as an admin and calling the JSON API the way the UI or a script would. */
import { changeAdminScopes } from "../../src/accounts";
import { ADMIN_PASSWORDS, type TestApp } from "./app";

/** Grants or withdraws an admin's scopes the way `photochanger admin scopes` does. */
export function changeScopes(app: TestApp, username: string, change: { add?: string[]; remove?: string[] }) {
  const { store, clock } = app.runtime;
  return changeAdminScopes({ auth: store.auth, audit: store.audit, clock }, username, change, "test");
}

export interface Session {
  token: string;
  cookie: string;
}

export async function login(app: TestApp, username: keyof typeof ADMIN_PASSWORDS): Promise<Session> {
  const res = await fetch(`${app.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: ADMIN_PASSWORDS[username] }),
  });
  if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status}`);
  const body = (await res.json()) as { access_token: string };
  return { token: body.access_token, cookie: res.headers.get("set-cookie")!.split(";")[0]! };
}

export interface ApiOptions {
  json?: unknown;
  form?: FormData;
  /** A raw body, sent as is (with the given headers). */
  raw?: string;
  headers?: Record<string, string>;
}

/** A fetch bound to one admin's Bearer token. */
export function api(app: TestApp, session: Session | null) {
  return (method: string, path: string, options: ApiOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers };
    if (session) headers.authorization = `Bearer ${session.token}`;
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    return fetch(`${app.url}${path}`, { method, headers, body });
  };
}

export type Api = ReturnType<typeof api>;

/** A multipart body with one file part (and optional text fields). */
export function fileForm(field: string, bytes: Uint8Array, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append(field, new File([bytes as Uint8Array<ArrayBuffer>], "photo.jpg", { type: "image/jpeg" }));
  return form;
}
