/** @jsxImportSource @kitajs/html */
/**
 * One audit entry's details in words: a settings change as "ожидание результата: 30 с → 50 с", a
 * template by its role ("Шаблон стиля"), an ended session by browser, address and sign-in time —
 * never raw JSON or a UUID.
 */
import { actorName, fmtDateTime, type View } from "./view";

/** Names the page takes from the provider catalogue: template roles and providers. */
export interface AuditNames {
  roles: Record<string, string>;
  providers: Record<string, string>;
}

/** Keys said by another line of the same entry (a template's id by its role, a preset's by its name). */
const SAID_ELSEWHERE: Record<string, string> = { template_id: "role", preset_id: "name", count: "sessions" };

function settingValue(v: View, key: string, value: unknown): string {
  const a = v.t.audit;
  if (value === null || value === undefined || value === "") return a.notSet;
  if (typeof value === "number") {
    if (key.endsWith("_seconds")) return `${value} ${v.t.common.seconds}`;
    if (key.endsWith("_hours")) return `${value} ${v.t.audit.hours}`;
  }
  return String(value);
}

/** `{key: {from, to}}` → one line per setting (per provider for the per-provider ones). */
function settingChanges(v: View, names: AuditNames, changed: Record<string, unknown>): string[] {
  const a = v.t.audit;
  const lines: string[] = [];
  for (const [key, change] of Object.entries(changed)) {
    const label = a.changedFields[key] ?? key;
    const { from, to } = (change ?? {}) as { from?: unknown; to?: unknown };
    const perProvider = (x: unknown) => (x && typeof x === "object" ? (x as Record<string, unknown>) : {});
    if ((from && typeof from === "object") || (to && typeof to === "object")) {
      const before = perProvider(from);
      const after = perProvider(to);
      for (const p of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (JSON.stringify(before[p] ?? null) === JSON.stringify(after[p] ?? null)) continue;
        const none = key === "provider_daily_limit" ? a.noLimit : a.notSet;
        const say = (x: unknown) => (x === null || x === undefined ? none : String(x));
        lines.push(`${label}, ${names.providers[p] ?? p}: ${say(before[p])} → ${say(after[p])}`);
      }
      continue;
    }
    lines.push(`${label}: ${settingValue(v, key, from)} → ${settingValue(v, key, to)}`);
  }
  return lines;
}

function sessionLine(v: View, s: Record<string, unknown>): string {
  const device = typeof s.device === "string" && s.device ? s.device : v.t.account.unknownBrowser;
  const parts = [device];
  if (typeof s.address === "string") parts.push(s.address);
  if (typeof s.signed_in === "string") parts.push(v.t.audit.signedIn(fmtDateTime(v, s.signed_in)));
  return parts.join(", ");
}

function Value({
  v,
  names,
  k,
  value,
}: {
  v: View;
  names: AuditNames;
  k: string;
  value: unknown;
}): JSX.Element {
  const a = v.t.audit;
  if ((k === "slot_id" || k === "job_id" || k === "new_job_id") && typeof value === "string") {
    const href = k === "slot_id" ? `/slots/${value}` : `/jobs/${value}`;
    return (
      <a href={href} class="mono" safe>
        {k === "slot_id" ? value : value.slice(0, 8)}
      </a>
    );
  }
  if (k === "username" && typeof value === "string") return <span safe>{actorName(v, value)}</span>;
  if (k === "role" && typeof value === "string") return <span safe>{names.roles[value] ?? value}</span>;
  if (k === "provider" && typeof value === "string")
    return <span safe>{names.providers[value] ?? value}</span>;
  if (k === "expires_at" && typeof value === "string") return <span safe>{fmtDateTime(v, value)}</span>;
  if (k === "status" && typeof value === "string")
    return <span safe>{v.t.jobs.statuses[value] ?? value}</span>;
  const word = typeof value === "string" ? a.values[k]?.[value] : undefined;
  if (word) return <span safe>{word}</span>;
  if (Array.isArray(value)) {
    return <span safe>{value.map((x) => a.changedFields[String(x)] ?? String(x)).join(", ")}</span>;
  }
  if (typeof value === "boolean") return <span safe>{value ? v.t.common.yes : v.t.common.no}</span>;
  if (value === null || value === undefined) return <span safe>{v.t.common.none}</span>;
  return (
    <span class="mono break" translate="no" safe>
      {typeof value === "object" ? JSON.stringify(value) : String(value)}
    </span>
  );
}

export function AuditDetails({
  v,
  names,
  details,
}: {
  v: View;
  names: AuditNames;
  details: Record<string, unknown>;
}): JSX.Element {
  const a = v.t.audit;
  const items: JSX.Element[] = [];
  for (const [k, val] of Object.entries(details)) {
    if (SAID_ELSEWHERE[k] && details[SAID_ELSEWHERE[k]!] !== undefined) continue;
    if (k === "changed" && val && typeof val === "object" && !Array.isArray(val)) {
      for (const line of settingChanges(v, names, val as Record<string, unknown>)) {
        items.push(
          <li data-setting-change safe>
            {line}
          </li>,
        );
      }
      continue;
    }
    if (k === "sessions" && Array.isArray(val)) {
      for (const s of val) {
        items.push(
          <li data-ended-session>
            <span class="muted" safe>{`${a.keys.session}:`}</span>{" "}
            <span safe>{sessionLine(v, (s ?? {}) as Record<string, unknown>)}</span>
          </li>,
        );
      }
      continue;
    }
    items.push(
      <li>
        <span class="muted" safe>{`${a.keys[k] ?? k}:`}</span> <Value v={v} names={names} k={k} value={val} />
      </li>,
    );
  }
  if (!items.length) return "";
  return <ul class="plain">{items.join("")}</ul>;
}
