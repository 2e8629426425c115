/** @jsxImportSource @kitajs/html */
/** The pages operators expect besides the daily ones: system health, the audit log, their own account. */
import { Alert, Field, PasswordInput } from "../components";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { actorName, can, fmtAgo, fmtBytes, fmtDateTime, fmtDuration, type View } from "../view";

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
  instances: {
    id: string;
    hostname: string;
    pid: number;
    version: string;
    startedAt: string;
    heartbeatAt: string;
    stoppedAt: string | null;
    alive: boolean;
    current: boolean;
  }[];
  notify: { webhook: boolean; telegram: boolean };
}

function StatusLine({ ok, text }: { ok: boolean; text: string }): JSX.Element {
  return (
    <span class={ok ? "pill ok" : "pill failed"} data-ok={String(ok)}>
      <span safe>{text}</span>
    </span>
  );
}

function Row({ label, children }: { label: string; children?: JSX.Element | string }): JSX.Element {
  return (
    <tr>
      <th scope="row" safe>
        {label}
      </th>
      <td>{children}</td>
    </tr>
  );
}

export function NotifyResult({
  v,
  results,
}: {
  v: View;
  results: { target: string; ok: boolean; error?: string }[];
}): JSX.Element {
  return (
    <div id="notify-result">
      {results.length === 0 ? (
        <Alert kind="warn">
          <span safe>{v.t.system.notifyNone}</span>
        </Alert>
      ) : (
        results.map((r) => (
          <Alert kind={r.ok ? "success" : "error"}>
            <span safe>
              {r.ok
                ? v.t.system.notifySent(v.t.system.targets[r.target] ?? r.target)
                : v.t.system.notifyFailed(v.t.system.targets[r.target] ?? r.target, r.error ?? "")}
            </span>
          </Alert>
        ))
      )}
    </div>
  );
}

export function SystemPage({ v, m }: { v: View; m: SystemModel }): JSX.Element {
  const s = v.t.system;
  const diskLow = m.disk ? m.disk.freeBytes / Math.max(1, m.disk.totalBytes) < 0.05 : true;
  return (
    <Layout v={v} title={s.title}>
      <div class="page-head">
        <div>
          <div class="eyebrow" safe>
            {s.eyebrow}
          </div>
          <h1 safe>{s.title}</h1>
          <p class="sub" safe>
            {s.sub}
          </p>
        </div>
      </div>
      <div class="grid-2">
        <section class="card" id="health">
          <h2 safe>{s.health}</h2>
          <table class="kv">
            <tbody>
              <Row label={s.database}>
                <>
                  <StatusLine ok={m.database.ok} text={m.database.ok ? s.ok : s.down} />{" "}
                  {m.database.latencyMs !== null ? (
                    <span class="muted small" safe>
                      {fmtDuration(v, m.database.latencyMs)}
                    </span>
                  ) : (
                    ""
                  )}
                </>
              </Row>
              <Row label={s.disk}>
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
              </Row>
              <Row label={s.queue}>
                {m.queue ? <span safe>{s.queueCounts(m.queue.pending, m.queue.processing)}</span> : s.unknown}
              </Row>
              <Row label={s.cleaner}>
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
              </Row>
              <Row label={s.version}>
                <code safe>{m.version}</code>
              </Row>
            </tbody>
          </table>
        </section>
        <section class="card" id="notifications">
          <h2 safe>{s.notifications}</h2>
          <p class="hint" safe>
            {s.notifyHint}
          </p>
          <table class="kv">
            <tbody>
              <Row label={s.targets.webhook ?? "Webhook"}>
                <StatusLine ok={m.notify.webhook} text={m.notify.webhook ? s.configured : s.notConfigured} />
              </Row>
              <Row label={s.targets.telegram ?? "Telegram"}>
                <StatusLine
                  ok={m.notify.telegram}
                  text={m.notify.telegram ? s.configured : s.notConfigured}
                />
              </Row>
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
        </section>
      </div>
      <section class="card" id="instances">
        <h2 safe>{s.instances}</h2>
        <div class="table-wrap">
          <table class="cards-on-phone">
            <thead>
              <tr>
                <th safe>{s.host}</th>
                <th safe>{s.state}</th>
                <th safe>{s.version}</th>
                <th safe>{s.started}</th>
                <th safe>{s.heartbeat}</th>
              </tr>
            </thead>
            <tbody>
              {m.instances.map((i) => (
                <tr data-instance={i.id}>
                  <td data-label={s.host}>
                    <span class="mono" safe>{`${i.hostname} · pid ${i.pid}`}</span>
                    {i.current ? (
                      <span class="pill" safe>
                        {s.thisOne}
                      </span>
                    ) : (
                      ""
                    )}
                  </td>
                  <td data-label={s.state}>
                    <StatusLine
                      ok={i.alive}
                      text={i.stoppedAt ? s.stopped : i.alive ? s.running : s.silent}
                    />
                  </td>
                  <td data-label={s.version}>
                    <code safe>{i.version}</code>
                  </td>
                  <td data-label={s.started} safe>
                    {fmtDateTime(v, i.startedAt)}
                  </td>
                  <td data-label={s.heartbeat} safe>
                    {fmtAgo(v, i.heartbeatAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
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

function detailValue(v: View, key: string, value: unknown): JSX.Element {
  if (key === "slot_id" && typeof value === "string") {
    return (
      <a href={`/slots/${value}`} class="mono" safe>
        {value}
      </a>
    );
  }
  if (key === "job_id" && typeof value === "string") {
    return (
      <a href={`/jobs/${value}`} class="mono" safe>
        {value.slice(0, 8)}
      </a>
    );
  }
  if (key === "username" && typeof value === "string") return <span safe>{actorName(v, value)}</span>;
  if (Array.isArray(value)) {
    return <span safe>{value.map((x) => v.t.audit.changedFields[String(x)] ?? String(x)).join(", ")}</span>;
  }
  if (typeof value === "boolean") return <span safe>{value ? v.t.common.yes : v.t.common.no}</span>;
  if (value === null || value === undefined) return <span safe>{v.t.common.none}</span>;
  return (
    <span class="mono break" translate="no" safe>
      {typeof value === "object" ? JSON.stringify(value) : String(value)}
    </span>
  );
}

export function AuditPage({
  v,
  entries,
  page,
  pages,
  actions,
  actors,
  filter,
}: {
  v: View;
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
      <div class="page-head">
        <div>
          <div class="eyebrow" safe>
            {a.eyebrow}
          </div>
          <h1 safe>{a.title}</h1>
          <p class="sub" safe>
            {a.sub}
          </p>
        </div>
      </div>
      <section class="card">
        <form class="filters" method="get" action="/audit">
          <div class="field">
            <label for="audit-actor" safe>
              {a.actor}
            </label>
            <select id="audit-actor" name="actor">
              <option value="" safe>
                {v.t.common.all}
              </option>
              {actors.map((x) => (
                <option value={x} selected={filter.actor === x} safe>
                  {actorName(v, x)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="audit-action" safe>
              {a.action}
            </label>
            <select id="audit-action" name="action">
              <option value="" safe>
                {v.t.common.all}
              </option>
              {actions.map((x) => (
                <option value={x} selected={filter.action === x} safe>
                  {a.actions[x] ?? x}
                </option>
              ))}
            </select>
          </div>
          <button class="btn" type="submit" safe>
            {v.t.jobs.apply}
          </button>
          <a class="btn ghost" href="/audit" safe>
            {v.t.jobs.reset}
          </a>
        </form>
        {entries.length ? (
          <div class="table-wrap gap-top">
            <table class="cards-on-phone" id="audit-table">
              <thead>
                <tr>
                  <th safe>{a.when}</th>
                  <th safe>{a.actor}</th>
                  <th safe>{a.action}</th>
                  <th safe>{a.details}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr data-action={e.action}>
                    <td data-label={a.when} safe>
                      {fmtDateTime(v, e.at)}
                    </td>
                    <td data-label={a.actor} safe>
                      {actorName(v, e.actor)}
                    </td>
                    <td data-label={a.action} safe>
                      {a.actions[e.action] ?? e.action}
                    </td>
                    <td data-label={a.details}>
                      {Object.keys(e.details).length ? (
                        <ul class="plain">
                          {Object.entries(e.details).map(([k, val]) => (
                            <li>
                              <span class="muted" safe>
                                {`${a.keys[k] ?? k}:`}
                              </span>{" "}
                              {detailValue(v, k, val)}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        ""
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p class="muted gap-top" safe>
            {a.empty}
          </p>
        )}
        {pages > 1 ? (
          <div class="row gap-top">
            {page > 1 ? (
              <a class="btn small ghost" href={link(page - 1)} safe>
                {v.t.common.prev}
              </a>
            ) : (
              ""
            )}
            <span class="muted small" safe>
              {v.t.common.page(page, pages)}
            </span>
            {page < pages ? (
              <a class="btn small ghost" href={link(page + 1)} safe>
                {v.t.common.next}
              </a>
            ) : (
              ""
            )}
          </div>
        ) : (
          ""
        )}
      </section>
    </Layout>
  );
}

export interface SessionView {
  id: string;
  createdAt: string;
  expiresAt: string;
  clientIp: string | null;
  current: boolean;
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
      {done ? (
        <Alert kind="success">
          <span safe>{a.passwordChanged}</span>
        </Alert>
      ) : (
        ""
      )}
      {errors._ ? (
        <Alert kind="error">
          <span safe>{errors._}</span>
        </Alert>
      ) : (
        ""
      )}
      <Field label={a.current} name="current" id="current-password" error={errors.current} required>
        <PasswordInput v={v} id="current-password" name="current" autocomplete="current-password" />
      </Field>
      <Field
        label={a.newPassword}
        name="next"
        id="new-password"
        error={errors.next}
        hint={a.newHint}
        required
      >
        <PasswordInput v={v} id="new-password" name="next" autocomplete="new-password" />
      </Field>
      <Field label={a.repeat} name="repeat" id="repeat-password" error={errors.repeat} required>
        <PasswordInput v={v} id="repeat-password" name="repeat" autocomplete="new-password" />
      </Field>
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
      {message ? (
        <Alert kind="success">
          <span safe>{message}</span>
        </Alert>
      ) : (
        ""
      )}
      <div class="table-wrap">
        <table class="cards-on-phone" id="sessions">
          <thead>
            <tr>
              <th safe>{a.signedIn}</th>
              <th safe>{a.address}</th>
              <th safe>{a.expires}</th>
              <th>
                <span class="sr-only" safe>
                  {a.revoke}
                </span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr data-session={s.id}>
                <td data-label={a.signedIn}>
                  <span safe>{fmtDateTime(v, s.createdAt)}</span>{" "}
                  {s.current ? (
                    <span class="pill ok" safe>
                      {a.thisSession}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label={a.address} class="mono" safe>
                  {s.clientIp ?? v.t.common.none}
                </td>
                <td data-label={a.expires} safe>
                  {fmtDateTime(v, s.expiresAt)}
                </td>
                <td>
                  {s.current ? (
                    ""
                  ) : (
                    <button
                      type="button"
                      class="btn small danger ghost"
                      hx-post={`/account/sessions/${s.id}/revoke`}
                      hx-target="#sessions-card"
                      hx-swap="outerHTML"
                      hx-confirm={a.confirmRevoke}
                    >
                      <Icon name="x" />
                      <span safe>{a.revoke}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {others ? (
        <button
          type="button"
          class="btn ghost gap-top"
          hx-post="/account/sessions/revoke-others"
          hx-target="#sessions-card"
          hx-swap="outerHTML"
          hx-confirm={a.confirmRevokeOthers}
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
      <div class="page-head">
        <div>
          <div class="eyebrow" safe>
            {a.eyebrow}
          </div>
          <h1 safe>{a.title(v.user?.username ?? "")}</h1>
          <p class="sub" safe>
            {a.scopes((v.user?.scopes ?? []).map((x) => a.scopeNames[x] ?? x).join(", "))}
          </p>
        </div>
      </div>
      <div class="grid-2">
        <PasswordCard v={v} />
        <SessionsCard v={v} sessions={sessions} />
      </div>
    </Layout>
  );
}
