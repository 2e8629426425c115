/**
 * The admin accounts `serg` and `igor`: created on first start with random passwords, their
 * passwords set by the CLI. Passwords are argon2id hashes; the scopes a user has live in
 * `admin_user.scopes`.
 */
import type { Clock } from "./lib/clock";
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

export const ADMIN_SCOPES: Record<string, Scope[]> = {
  serg: [...SCOPES],
  igor: SCOPES.filter((s) => s !== "settings:write"),
};

export function isAdminUsername(name: string): boolean {
  return Object.hasOwn(ADMIN_SCOPES, name);
}

/** Creates missing admins with the given password generator; returns who was created and with what. */
export async function ensureAdminUsers(
  auth: AuthStore,
  generate: () => string,
): Promise<{ username: string; password: string }[]> {
  const existing = new Set(await auth.usernames());
  const created: { username: string; password: string }[] = [];
  for (const [username, scopes] of Object.entries(ADMIN_SCOPES)) {
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
  await deps.auth.setPassword(username, passwordHash, ADMIN_SCOPES[username] ?? [], deps.clock.now());
}
