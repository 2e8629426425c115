import type { Block } from "../../src/domain/attention";
/** @jsxImportSource @kitajs/html */
/** The pages operators expect besides the daily ones: system health, the audit log, their own account. */

import { UnblockButton } from "../attention";
import { AuditDetails, type AuditNames } from "../audit";
import {
  AlertText,
  Card,
  CardsTable,
  confirmAttrs,
  FactRow,
  Field,
  FilterSelect,
  PageHead,
  Pager,
  PasswordInput,
} from "../components";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { MediaStorageCard, type MediaStorageModel } from "../media-storage";
import { causeText } from "../notify";
import { actorName, can, fmtAgo, fmtBytes, fmtDateTime, fmtDuration, fmtSince, type View } from "../view";

export interface SystemModel {
  version: string;
  database: { ok: boolean; latencyMs: number | null };
  disk: { freeBytes: number; totalBytes: number } | null;
  queue: { pending: number; processing: number } | null;
  cleaner: {
    startedAt: string;
    finishedAt: string | null;
    error: string | null;
    removed: Record<string, number>;
  } | null;
  media: MediaStorageModel;
  /** The instance registry (live first, then those that stopped or went silent in the last hour). */
  instances: {
    id: string;
    hostname: string;
    pid: number;
    address: string | null;
    jobsInFlight: number;
    version: string;
    startedAt: string;
    heartbeatAt: string;
    stoppedAt: string | null;
    live: boolean;
    current: boolean;
  }[];
  notify: { webhook: boolean; telegram: boolean };
  /** Addresses blocked for wrong passwords now (booth and admin logins). */
  blocks: Block[];
  /** The last notifications sent, newest first. */
  notifications: NotificationView[];
}

export interface NotificationView {
  at: Date;
  event: string;
  target: string;
  ok: boolean;
  cause: string | null;
  detail: string | null;
  slotId: string | null;
}

/** `/system`'s history of notifications sent (tests and real ones), each with its result. */
export function NotificationHistory({
  v,
  rows,
  oob = false,
}: {
  v: View;
  rows: NotificationView[];
  oob?: boolean;
}): JSX.Element {
  const s = v.t.system;
  return (
    <section class="card" id="notify-history" {...(oob ? { "hx-swap-oob": "true" } : {})}>
      <h2 safe>{s.historyTitle}</h2>
      <p class="hint" safe>
        {s.historyHint}
      </p>
      {rows.length ? (
        <CardsTable
          rows={rows}
          rowAttrs={(r) => ({ "data-notification": r.ok ? "sent" : "failed", "data-target": r.target })}
          columns={[
            { label: s.historyWhen, text: (r) => fmtDateTime(v, r.at) },
            {
              label: s.historyEvent,
              text: (r) => `${s.events[r.event] ?? r.event}${r.slotId ? ` · ${r.slotId}` : ""}`,
            },
            { label: s.historyTarget, text: (r) => s.targets[r.target] ?? r.target },
            {
              label: s.historyResult,
              cell: (r) => <StatusLine ok={r.ok} text={r.ok ? s.historySent : s.historyFailed} />,
            },
            {
              label: s.historyCause,
              text: (r) => (r.ok ? "" : causeText(v, r.cause ? { kind: r.cause, detail: r.detail } : null)),
            },
          ]}
        />
      ) : (
        <p class="muted" safe>
          {s.historyEmpty}
        </p>
      )}
    </section>
  );
}

/** `/system`'s list of blocks after wrong passwords, each with its unblock button. */
export function BlocksCard({
  v,
  blocks,
  message,
}: {
  v: View;
  blocks: Block[];
  message?: { kind: "success" | "warn"; text: string };
}): JSX.Element {
  const s = v.t.system;
  return (
    <Card id="blocks" title={s.blocksTitle} hint={s.blocksHint}>
      {message ? <AlertText kind={message.kind} text={message.text} /> : ""}
      {blocks.length ? (
        <CardsTable
          rows={blocks}
          rowAttrs={(b) => ({ "data-block": `${b.scope}:${b.key}` })}
          columns={[
            { label: s.blockAddress, mono: true, text: (b) => b.address },
            {
              label: s.blockWhat,
              text: (b) => (b.scope === "login" ? s.blockLogin(b.username ?? "") : s.blockBooth),
            },
            { label: s.blockFailures, num: true, text: (b) => String(b.failures) },
            { label: s.blockSince, text: (b) => fmtSince(v, b.since) },
            { label: s.blockUntil, text: (b) => fmtSince(v, b.until) },
            can(v, "settings:write") && {
              label: v.t.attention.unblock,
              hideLabel: true,
              cell: (b) => (
                <UnblockButton
                  v={v}
                  scope={b.scope}
                  blockKey={b.key}
                  address={b.address}
                  target="#blocks"
                  action="/system/blocks/unblock"
                />
              ),
            },
          ]}
        />
      ) : (
        <p class="muted" safe>
          {s.blocksEmpty}
        </p>
      )}
    </Card>
  );
}

function StatusLine({ ok, text }: { ok: boolean; text: string }): JSX.Element {
  return (
    <span class={ok ? "pill ok" : "pill failed"} data-ok={String(ok)}>
      <span safe>{text}</span>
    </span>
  );
}

export function SystemPage({ v, m }: { v: View; m: SystemModel }): JSX.Element {
  const s = v.t.system;
  const diskLow = m.disk ? m.disk.freeBytes / Math.max(1, m.disk.totalBytes) < 0.05 : true;
  return (
    <Layout v={v} title={s.title}>
      <PageHead eyebrow={s.eyebrow} title={s.title} sub={s.sub} />
      <div class="grid-2">
        <Card id="health" title={s.health}>
          <table class="kv">
            <tbody>
              <FactRow label={s.database}>
                <StatusLine ok={m.database.ok} text={m.database.ok ? s.ok : s.down} />{" "}
                {m.database.latencyMs !== null ? (
                  <span class="muted small" safe>
                    {fmtDuration(v, m.database.latencyMs)}
                  </span>
                ) : (
                  ""
                )}
              </FactRow>
              <FactRow label={s.disk}>
                {m.disk ? (
                  <>
                    <StatusLine ok={!diskLow} text={diskLow ? s.diskLow : s.ok} />{" "}
                    <span safe>
                      {s.diskFree(fmtBytes(v, m.disk.freeBytes), fmtBytes(v, m.disk.totalBytes))}
                    </span>
                  </>
                ) : (
                  <StatusLine ok={false} text={s.unknown} />
                )}
              </FactRow>
              <FactRow label={s.queue}>
                {m.queue ? <span safe>{s.queueCounts(m.queue.pending, m.queue.processing)}</span> : s.unknown}
              </FactRow>
              <FactRow label={s.cleaner}>
                {m.cleaner ? (
                  <>
                    <StatusLine ok={!m.cleaner.error} text={m.cleaner.error ? s.cleanerError : s.ok} />{" "}
                    <span safe>
                      {m.cleaner.finishedAt
                        ? s.cleanerLast(fmtDateTime(v, m.cleaner.finishedAt), fmtAgo(v, m.cleaner.finishedAt))
                        : s.cleanerRunning(fmtDateTime(v, m.cleaner.startedAt))}
                    </span>
                    {Object.keys(m.cleaner.removed).length ? (
                      <div class="muted small" safe>
                        {s.cleanerRemoved(
                          Object.entries(m.cleaner.removed)
                            .filter(([k]) => k.endsWith("count") || !k.includes("."))
                            .reduce((a, [, n]) => a + (Number(n) || 0), 0),
                        )}
                      </div>
                    ) : (
                      ""
                    )}
                  </>
                ) : (
                  <span safe>{s.cleanerNever}</span>
                )}
              </FactRow>
              <FactRow label={s.version}>
                <code safe>{m.version}</code>
              </FactRow>
            </tbody>
          </table>
        </Card>
        <Card id="notifications" title={s.notifications} hint={s.notifyHint}>
          <table class="kv">
            <tbody>
              <FactRow label={s.targets.webhook ?? "Webhook"}>
                <StatusLine ok={m.notify.webhook} text={m.notify.webhook ? s.configured : s.notConfigured} />
              </FactRow>
              <FactRow label={s.targets.telegram ?? "Telegram"}>
                <StatusLine
                  ok={m.notify.telegram}
                  text={m.notify.telegram ? s.configured : s.notConfigured}
                />
              </FactRow>
            </tbody>
          </table>
          {can(v, "settings:write") ? (
            <form
              hx-post="/system/notify-test"
              hx-target="#notify-result"
              hx-swap="outerHTML"
              class="gap-top"
            >
              <button class="btn ghost" type="submit">
                <Icon name="play" />
                <span safe>{s.notifyTest}</span>
              </button>
            </form>
          ) : (
            ""
          )}
          <div id="notify-result"></div>
          <p class="gap-top">
            <a href="/settings#notify-settings" safe>
              {s.notifySettings}
            </a>
          </p>
        </Card>
      </div>
      <NotificationHistory v={v} rows={m.notifications} />
      <BlocksCard v={v} blocks={m.blocks} />
      <MediaStorageCard v={v} m={m.media} />
      <Card id="instances" title={s.instances}>
        <CardsTable
          rows={m.instances}
          rowAttrs={(i) => ({ "data-instance": i.id })}
          columns={[
            {
              label: s.host,
              cell: (i) => (
                <>
                  <span class="mono" safe>{`${i.hostname} · pid ${i.pid}`}</span>
                  {i.current ? (
                    <span class="pill" safe>
                      {s.thisOne}
                    </span>
                  ) : (
                    ""
                  )}
                </>
              ),
            },
            {
              label: s.state,
              cell: (i) => (
                <StatusLine ok={i.live} text={i.stoppedAt ? s.stopped : i.live ? s.running : s.silent} />
              ),
            },
            {
              label: s.address,
              cell: (i) =>
                i.address ? (
                  <span class="mono" safe>
                    {i.address}
                  </span>
                ) : (
                  <span class="muted" safe>
                    {s.noAddress}
                  </span>
                ),
            },
            {
              label: s.jobsInFlight,
              num: true,
              text: (i) => String(i.jobsInFlight),
              attrs: (i) => ({ "data-jobs-in-flight": String(i.jobsInFlight) }),
            },
            { label: s.version, cell: (i) => <code safe>{i.version}</code> },
            { label: s.started, text: (i) => fmtDateTime(v, i.startedAt) },
            {
              label: s.heartbeat,
              cell: (i) => (
                <time datetime={i.heartbeatAt} title={fmtDateTime(v, i.heartbeatAt)} safe>
                  {fmtAgo(v, i.heartbeatAt)}
                </time>
              ),
            },
          ]}
        />
      </Card>
    </Layout>
  );
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export function AuditPage({
  v,
  entries,
  page,
  pages,
  actions,
  actors,
  filter,
  names,
}: {
  v: View;
  names: AuditNames;
  entries: AuditEntry[];
  page: number;
  pages: number;
  actions: string[];
  actors: string[];
  filter: { actor?: string; action?: string };
}): JSX.Element {
  const a = v.t.audit;
  const link = (p: number) => {
    const q = new URLSearchParams();
    if (filter.actor) q.set("actor", filter.actor);
    if (filter.action) q.set("action", filter.action);
    q.set("page", String(p));
    return `/audit?${q}`;
  };
  return (
    <Layout v={v} title={a.title}>
      <PageHead eyebrow={a.eyebrow} title={a.title} sub={a.sub} />
      <section class="card">
        <form class="filters" method="get" action="/audit">
          <FilterSelect
            v={v}
            id="audit-actor"
            name="actor"
            label={a.actor}
            options={actors.map((x) => ({ value: x, label: actorName(v, x) }))}
            selected={filter.actor}
          />
          <FilterSelect
            v={v}
            id="audit-action"
            name="action"
            label={a.action}
            options={actions.map((x) => ({ value: x, label: a.actions[x] ?? x }))}
            selected={filter.action}
          />
          <button class="btn" type="submit" safe>
            {v.t.jobs.apply}
          </button>
          <a class="btn ghost" href="/audit" safe>
            {v.t.jobs.reset}
          </a>
        </form>
        {entries.length ? (
          <div class="gap-top">
            <CardsTable
              id="audit-table"
              rows={entries}
              rowAttrs={(e) => ({ "data-action": e.action })}
              columns={[
                { label: a.when, text: (e) => fmtDateTime(v, e.at) },
                { label: a.actor, text: (e) => actorName(v, e.actor) },
                { label: a.action, text: (e) => a.actions[e.action] ?? e.action },
                { label: a.details, cell: (e) => <AuditDetails v={v} names={names} details={e.details} /> },
              ]}
            />
          </div>
        ) : (
          <p class="muted gap-top" safe>
            {a.empty}
          </p>
        )}
        <Pager v={v} page={page} pages={pages} link={link} />
      </section>
    </Layout>
  );
}

export interface SessionView {
  id: string;
  createdAt: string;
  expiresAt: string;
  clientIp: string | null;
  /** Browser and system from the User-Agent at sign-in (nulls when unknown or not stored). */
  device: { browser: string | null; system: string | null; kind: "phone" | "tablet" | "computer" | null };
  current: boolean;
}

/** "Firefox · Linux (компьютер)"; "неизвестный браузер" when the User-Agent said nothing we know. */
export function deviceName(v: View, d: SessionView["device"]): string {
  const a = v.t.account;
  const name = [d.browser ?? a.unknownBrowser, d.system].filter(Boolean).join(" · ");
  return d.kind ? `${name} (${a.deviceKinds[d.kind]})` : name;
}

export function PasswordCard({
  v,
  errors = {},
  done,
}: {
  v: View;
  errors?: Record<string, string>;
  done?: boolean;
}): JSX.Element {
  const a = v.t.account;
  // After an error the card comes back with the typed passwords kept (the server never echoes them):
  // every field but the ones it faults; after a change, all empty.
  const keep = (name: string) => !done && !errors[name];
  return (
    <form
      id="password-card"
      class="card"
      hx-post="/account/password"
      hx-target="this"
      hx-swap="outerHTML"
      method="post"
      action="/account/password"
    >
      <h2>
        <Icon name="key" /> <span safe>{a.passwordTitle}</span>
      </h2>
      <AlertText kind="success" text={done ? a.passwordChanged : null} />
      <AlertText kind="error" text={errors._} />
      {(
        [
          ["current", "current-password", a.current, "current-password", undefined],
          ["next", "new-password", a.newPassword, "new-password", a.newHint],
          ["repeat", "repeat-password", a.repeat, "new-password", undefined],
        ] as const
      ).map(([name, id, label, autocomplete, hint]) => (
        <Field label={label} name={name} id={id} error={errors[name]} hint={hint} required>
          <PasswordInput v={v} id={id} name={name} autocomplete={autocomplete} preserve={keep(name)} />
        </Field>
      ))}
      <button class="btn" type="submit">
        <Icon name="check" />
        <span safe>{a.change}</span>
      </button>
    </form>
  );
}

export function SessionsCard({
  v,
  sessions,
  message,
}: {
  v: View;
  sessions: SessionView[];
  message?: string;
}): JSX.Element {
  const a = v.t.account;
  const others = sessions.filter((s) => !s.current).length;
  return (
    <section id="sessions-card" class="card">
      <h2 safe>{a.sessionsTitle}</h2>
      <p class="hint" safe>
        {a.sessionsHint}
      </p>
      <AlertText kind="success" text={message} />
      <CardsTable
        id="sessions"
        rows={sessions}
        rowAttrs={(x) => ({ "data-session": x.id })}
        columns={[
          {
            label: a.device,
            cell: (x) => (
              <>
                <span data-device safe>
                  {deviceName(v, x.device)}
                </span>{" "}
                {x.current ? (
                  <span class="pill ok" data-this-device safe>
                    {a.thisDevice}
                  </span>
                ) : (
                  ""
                )}
              </>
            ),
          },
          { label: a.signedIn, text: (x) => fmtDateTime(v, x.createdAt) },
          { label: a.address, mono: true, text: (x) => x.clientIp ?? v.t.common.none },
          { label: a.expires, text: (x) => fmtDateTime(v, x.expiresAt) },
          {
            label: a.revoke,
            hideLabel: true,
            cell: (x) =>
              x.current ? (
                ""
              ) : (
                <button
                  type="button"
                  class="btn small danger ghost"
                  hx-post={`/account/sessions/${x.id}/revoke`}
                  hx-target="#sessions-card"
                  hx-swap="outerHTML"
                  {...confirmAttrs(v.t.console.actions.revokeSession, a.confirmRevoke)}
                >
                  <Icon name="x" />
                  <span safe>{a.revoke}</span>
                </button>
              ),
          },
        ]}
      />
      {others ? (
        <button
          type="button"
          class="btn ghost gap-top"
          hx-post="/account/sessions/revoke-others"
          hx-target="#sessions-card"
          hx-swap="outerHTML"
          {...confirmAttrs(v.t.console.actions.revokeOthers, a.confirmRevokeOthers)}
        >
          <Icon name="logout" />
          <span safe>{a.revokeOthers(others)}</span>
        </button>
      ) : (
        ""
      )}
    </section>
  );
}

export function AccountPage({ v, sessions }: { v: View; sessions: SessionView[] }): JSX.Element {
  const a = v.t.account;
  return (
    <Layout v={v} title={a.title(v.user?.username ?? "")}>
      <PageHead
        eyebrow={a.eyebrow}
        title={a.title(v.user?.username ?? "")}
        sub={a.scopes((v.user?.scopes ?? []).map((x) => a.scopeNames[x] ?? x).join(", "))}
      />
      <div class="grid-2">
        <PasswordCard v={v} />
        <SessionsCard v={v} sessions={sessions} />
      </div>
    </Layout>
  );
}
