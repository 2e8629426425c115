/** An admin's own account in SQL: the password hash and the sessions they may see and revoke. */
import type { Sql } from "../db/client";

export async function passwordHashOf(sql: Sql, username: string): Promise<string | null> {
  const [row] = await sql<{ password_hash: string }[]>`
    select password_hash from admin_user where username = ${username}`;
  return row?.password_hash ?? null;
}

export async function setPasswordHash(sql: Sql, username: string, hash: string, at: Date): Promise<void> {
  await sql`update admin_user set password_hash = ${hash}, password_updated_at = ${at} where username = ${username}`;
}

export interface SessionRow {
  id: string;
  created_at: Date;
  expires_at: Date;
  client_ip: string | null;
}

export async function activeSessions(sql: Sql, username: string, now: Date): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    select id, created_at, expires_at, client_ip from admin_session
    where username = ${username} and revoked_at is null and expires_at > ${now}
    order by created_at desc`;
}

/** Revokes one of the admin's own sessions; false when it is not theirs or already ended. */
export async function revokeOwnSession(
  sql: Sql,
  username: string,
  sessionId: string,
  now: Date,
): Promise<boolean> {
  const rows = await sql`
    update admin_session set revoked_at = ${now}
    where id = ${sessionId} and username = ${username} and revoked_at is null
    returning 1`;
  return rows.length > 0;
}

/** Revokes every session of the admin except `keep`. */
export async function revokeOtherSessions(
  sql: Sql,
  username: string,
  keep: string,
  now: Date,
): Promise<number> {
  const rows = await sql`
    update admin_session set revoked_at = ${now}
    where username = ${username} and id <> ${keep} and revoked_at is null
    returning 1`;
  return rows.length;
}
