/** Operators' own style presets (table slot_preset). */
import type { Sql } from "../db/client";

export interface PresetRow {
  id: string;
  name: string;
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  createdBy: string;
  createdAt: Date;
}

function toRow(r: Record<string, unknown>): PresetRow {
  return {
    id: String(r.id),
    name: String(r.name),
    provider: String(r.provider),
    operation: String(r.operation),
    settings: (r.settings as Record<string, unknown>) ?? {},
    createdBy: String(r.created_by),
    createdAt: r.created_at as Date,
  };
}

export async function listPresets(sql: Sql): Promise<PresetRow[]> {
  const rows = await sql`
    select id, name, provider, operation, settings, created_by, created_at
    from slot_preset order by created_at, id`;
  return rows.map(toRow);
}

export async function getPreset(sql: Sql, id: string): Promise<PresetRow | null> {
  const [row] = await sql`
    select id, name, provider, operation, settings, created_by, created_at
    from slot_preset where id = ${id}`;
  return row ? toRow(row) : null;
}

export async function insertPreset(sql: Sql, p: PresetRow): Promise<PresetRow> {
  const [row] = await sql`
    insert into slot_preset (id, name, provider, operation, settings, created_by, created_at)
    values (${p.id}, ${p.name}, ${p.provider}, ${p.operation}, ${sql.json(p.settings as never)}, ${p.createdBy}, ${p.createdAt})
    returning id, name, provider, operation, settings, created_by, created_at`;
  return toRow(row!);
}

/** True when a row was deleted. */
export async function deletePreset(sql: Sql, id: string): Promise<PresetRow | null> {
  const [row] = await sql`
    delete from slot_preset where id = ${id}
    returning id, name, provider, operation, settings, created_by, created_at`;
  return row ? toRow(row) : null;
}
