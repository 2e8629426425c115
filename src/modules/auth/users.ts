import type { Db } from "../../db/client";
import { adminUser } from "../../db/schema";

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
export const ADMIN_USERNAMES = Object.keys(ADMIN_SCOPES);

export function isAdminUsername(name: string): boolean {
  return Object.hasOwn(ADMIN_SCOPES, name);
}

/** Creates missing admins with the given password generator; returns who was created and with what. */
export async function ensureAdminUsers(
  db: Db,
  generate: () => string,
): Promise<{ username: string; password: string }[]> {
  const existing = new Set((await db.select({ u: adminUser.username }).from(adminUser)).map((r) => r.u));
  const created: { username: string; password: string }[] = [];
  for (const [username, scopes] of Object.entries(ADMIN_SCOPES)) {
    if (existing.has(username)) continue;
    const password = generate();
    const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
    const inserted = await db
      .insert(adminUser)
      .values({ username, passwordHash, scopes })
      .onConflictDoNothing()
      .returning({ u: adminUser.username });
    if (inserted.length) created.push({ username, password });
  }
  return created;
}

export async function setAdminPassword(db: Db, username: string, password: string): Promise<void> {
  if (!isAdminUsername(username)) throw new Error(`unknown admin "${username}" (expected serg or igor)`);
  const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
  await db
    .insert(adminUser)
    .values({ username, passwordHash, scopes: ADMIN_SCOPES[username] ?? [] })
    .onConflictDoUpdate({ target: adminUser.username, set: { passwordHash, passwordUpdatedAt: new Date() } });
}
