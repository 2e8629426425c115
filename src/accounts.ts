/**
 * The admin accounts `serg` and `igor`: created on first start with random passwords, their
 * passwords set by the CLI. Passwords are argon2id hashes; the scopes a user has live in
 * `admin_user.scopes` (read on every request) and change with `photochanger admin scopes`.
 */
import { MIN_ADMIN_PASSWORD } from "./domain/passwords";
import type { Clock } from "./lib/clock";
import type { AuditStore } from "./store/audit";
import type { AuthStore } from "./store/auth";

export const SCOPES = [
  "slots:read",
  "slots:write",
  "stats:read",
  "settings:read",
  "settings:write",
  "jobs:write",
] as const;
export type Scope = (typeof SCOPES)[number];

/** The admins and the scopes they start with: both have every scope (SPEC §10). */
export const DEFAULT_SCOPES: Record<string, Scope[]> = {
  serg: [...SCOPES],
  igor: [...SCOPES],
};

export function isAdminUsername(name: string): boolean {
  return Object.hasOwn(DEFAULT_SCOPES, name);
}

export function isScope(name: string): name is Scope {
  return (SCOPES as readonly string[]).includes(name);
}

/** Creates missing admins with the given password generator; returns who was created and with what. */
export async function ensureAdminUsers(
  auth: AuthStore,
  generate: () => string,
): Promise<{ username: string; password: string }[]> {
  const existing = new Set(await auth.usernames());
  const created: { username: string; password: string }[] = [];
  for (const [username, scopes] of Object.entries(DEFAULT_SCOPES)) {
    if (existing.has(username)) continue;
    const password = generate();
    const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
    if (await auth.createUser(username, passwordHash, scopes)) created.push({ username, password });
  }
  return created;
}

export async function setAdminPassword(
  deps: { auth: AuthStore; clock: Clock },
  username: string,
  password: string,
): Promise<void> {
  if (!isAdminUsername(username)) throw new Error(`unknown admin "${username}" (expected serg or igor)`);
  const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
  await deps.auth.setPassword(username, passwordHash, DEFAULT_SCOPES[username] ?? [], deps.clock.now());
}

/**
 * Changes an admin's password and ends their sessions — all of them (the CLI: whoever had the old
 * password is out), or all but `keepSession` (the account page: the admin stays signed in here).
 * Audited with the number of sessions ended. Returns that number.
 */
export async function changeAdminPassword(
  deps: { auth: AuthStore; audit: AuditStore; clock: Clock },
  username: string,
  password: string,
  options: { by: string; keepSession: string | null },
): Promise<number> {
  if (password.length < MIN_ADMIN_PASSWORD) {
    throw new Error(`admin passwords need at least ${MIN_ADMIN_PASSWORD} characters`);
  }
  if (!isAdminUsername(username)) throw new Error(`unknown admin "${username}" (expected serg or igor)`);
  // Before the first start the admin does not exist yet: it is created with its default scopes.
  const scopes = (await deps.auth.user(username))?.scopes ?? DEFAULT_SCOPES[username] ?? [];
  const now = deps.clock.now();
  const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
  await deps.auth.setPassword(username, passwordHash, scopes, now);
  const ended = (await deps.auth.revokeSessions(username, options.keepSession, now)).length;
  // Set for someone (the CLI) or changed by the admin themself (the account page).
  const action = options.keepSession ? "admin.password_changed" : "admin.password_set";
  await deps.audit.append(options.by, action, { username, count: ended }, now);
  return ended;
}

/**
 * Grants and withdraws scopes of an admin (`photochanger admin scopes`), audited. Unknown scope
 * names and unknown admins are refused with a message naming them; returns the admin's scopes.
 */
export async function changeAdminScopes(
  deps: { auth: AuthStore; audit: AuditStore; clock: Clock },
  username: string,
  change: { add?: string[]; remove?: string[] },
  by: string,
): Promise<Scope[]> {
  const unknown = [...(change.add ?? []), ...(change.remove ?? [])].filter((s) => !isScope(s));
  if (unknown.length) {
    const names = unknown.map((s) => `"${s}"`).join(", ");
    throw new Error(`unknown scope ${names} (scopes: ${SCOPES.join(", ")})`);
  }
  const user = isAdminUsername(username) ? await deps.auth.user(username) : null;
  if (!user) throw new Error(`unknown admin "${username}" (expected serg or igor)`);
  const before = SCOPES.filter((s) => user.scopes.includes(s));
  const after = SCOPES.filter(
    (s) => (before.includes(s) || change.add?.includes(s)) && !change.remove?.includes(s),
  );
  if (after.join() !== before.join()) {
    await deps.auth.setScopes(username, after);
    await deps.audit.append(
      by,
      "admin.scopes_changed",
      { username, from: before, to: after },
      deps.clock.now(),
    );
  }
  return after;
}
