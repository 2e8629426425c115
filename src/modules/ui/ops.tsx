/** @jsxImportSource @kitajs/html */
/** `/system` (health, instances, notifications), `/audit` (who changed what), `/account` (own password, sessions). */

import { Elysia } from "elysia";
import { NotifyResult } from "../../../templates/notify";
import {
  AccountPage,
  AuditPage,
  BlocksCard,
  NotificationHistory,
  PasswordCard,
  SessionsCard,
  type SessionView,
  type SystemModel,
  SystemPage,
} from "../../../templates/pages/ops";
import type { View } from "../../../templates/view";
import { changeAdminPassword } from "../../accounts";
import { MIN_ADMIN_PASSWORD } from "../../domain/passwords";
import { clientAddress } from "../../lib/client";
import { AppError } from "../../lib/errors";
import { describeUserAgent, nameUserAgent } from "../../lib/user-agent";
import { mediaState } from "../../media/spool";
import { instanceRegistry } from "../../ops";
import type { Services } from "../../services";
import type { SessionRow } from "../../store/auth";
import { VERSION } from "../../version";
import { recentNotifications, sendTestNotice } from "../attention/notifier";
import { checkLogin } from "../auth/service";
import { liftBlock, listBlocks } from "../blocks/service";
import { uiContext } from "./context";
import { providerLabels, roleLabels } from "./labels";
import { render } from "./render";

const AUDIT_PAGE_SIZE = 50;

async function systemModel(services: Services): Promise<SystemModel> {
  const started = performance.now();
  let dbOk = true;
  try {
    await services.store.ping();
  } catch {
    dbOk = false;
  }
  const latency = dbOk ? performance.now() - started : null;
  const safe = async <T,>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch {
      return null;
    }
  };
  const [disk, queue, cleaner, instances] = await Promise.all([
    safe(() => services.media.diskUsage()),
    safe(() => services.queue.counts()),
    safe(() => services.store.cleanupRuns.lastStarted()),
    safe(() => instanceRegistry(services.store)),
  ]);
  const n = await services.settings.notifyTargets();
  const blocks = (await safe(() => listBlocks(services, services.clock.now()))) ?? [];
  const notifications = (await safe(() => recentNotifications(services))) ?? [];
  const media = await mediaState(services.media);
  return {
    version: VERSION,
    database: { ok: dbOk, latencyMs: latency === null ? null : Math.round(latency * 10) / 10 },
    disk: disk ? { freeBytes: disk.free, totalBytes: disk.total } : null,
    queue,
    cleaner: cleaner
      ? {
          startedAt: cleaner.startedAt.toISOString(),
          finishedAt: cleaner.finishedAt ? cleaner.finishedAt.toISOString() : null,
          error: cleaner.error,
          removed: {},
        }
      : null,
    media: {
      backend: media.backend,
      location: media.location,
      failingSince: media.health.failingSince?.toISOString() ?? null,
      error: media.health.error,
      spool: media.spool
        ? {
            files: media.spool.files,
            bytes: media.spool.bytes,
            maxBytes: media.spool.maxBytes,
            oldest: media.spool.oldest?.toISOString() ?? null,
          }
        : null,
    },
    instances: (instances ?? []).map((i) => ({
      id: i.id,
      hostname: i.hostname,
      pid: i.pid,
      address: i.address,
      jobsInFlight: i.jobs_in_flight,
      version: i.version,
      startedAt: i.started_at,
      heartbeatAt: i.last_heartbeat_at,
      stoppedAt: i.stopped_at,
      live: i.live,
      current: i.id === services.instanceId,
    })),
    notify: { webhook: !!n.webhookUrl, telegram: !!(n.telegram.botToken && n.telegram.chatId) },
    blocks,
    notifications,
  };
}

/** What the audit log keeps of ended sessions: which ones (browser and device, address, sign-in). */
function endedSessions(rows: SessionRow[]): Record<string, unknown> {
  return {
    count: rows.length,
    sessions: rows.map((s) => ({
      device: describeUserAgent(s.userAgent),
      address: s.clientIp,
      signed_in: s.createdAt.toISOString(),
    })),
  };
}

async function sessionsOf(
  services: Services,
  username: string,
  current: string,
  now: Date,
): Promise<SessionView[]> {
  return (await services.store.auth.activeSessions(username, now)).map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    clientIp: s.clientIp,
    device: nameUserAgent(s.userAgent),
    current: s.id === current,
  }));
}

type Form = Record<string, string | string[] | undefined>;
const field = (body: unknown, name: string): string => {
  const v = (body as Form | undefined)?.[name];
  return (Array.isArray(v) ? v[v.length - 1] : v) ?? "";
};

function passwordErrors(v: View, current: string, next: string, repeat: string): Record<string, string> {
  const a = v.t.account;
  const errors: Record<string, string> = {};
  if (!current) errors.current = v.t.validation.required;
  if (next.length < MIN_ADMIN_PASSWORD) errors.next = a.tooShort;
  else if (next === current) errors.next = a.sameAsOld;
  if (repeat !== next) errors.repeat = a.mismatch;
  return errors;
}

export const uiOpsRoutes = (services: Services) =>
  new Elysia({ name: "ui-ops" })
    .use(uiContext(services))
    .get("/system", async ({ view }) => render(<SystemPage v={view} m={await systemModel(services)} />), {
      page: "slots:read",
    })
    .post(
      "/system/notify-test",
      async ({ view, admin }) => {
        const results = await sendTestNotice(services, view.t.notify.test, admin.username);
        // the history on the same page shows the send at once
        return render(
          <>
            <NotifyResult v={view} results={results} />
            <NotificationHistory v={view} rows={await recentNotifications(services)} oob />
          </>,
        );
      },
      { page: "settings:write" },
    )
    .post(
      "/system/blocks/unblock",
      async ({ view, body, admin }) => {
        const form = (body ?? {}) as Record<string, unknown>;
        const key = String(form.key ?? "");
        let message: { kind: "success" | "warn"; text: string };
        try {
          await liftBlock(services, String(form.scope ?? ""), key, admin.username);
          const address = key.includes("|") ? key.slice(key.indexOf("|") + 1) : key;
          message = { kind: "success", text: view.t.attention.unblocked(address) };
        } catch (err) {
          if (!(err instanceof AppError && err.code === "block_not_found")) throw err;
          message = { kind: "warn", text: view.t.attention.unblockGone };
        }
        return render(
          <BlocksCard v={view} blocks={await listBlocks(services, services.clock.now())} message={message} />,
        );
      },
      { page: "settings:write" },
    )
    .get(
      "/audit",
      async ({ view, query }) => {
        const q = query as Record<string, string | undefined>;
        const page = Math.max(1, Math.min(10_000, Number.parseInt(q.page ?? "1", 10) || 1));
        const filter = { actor: q.actor || undefined, action: q.action || undefined };
        const [{ rows, total }, actions] = await Promise.all([
          services.store.audit.page({ page, pageSize: AUDIT_PAGE_SIZE, ...filter }),
          services.store.audit.actions(),
        ]);
        const actors = ["serg", "igor", "cli", "first-start", "system"];
        return render(
          <AuditPage
            v={view}
            names={{ roles: roleLabels(services, view.lang), providers: providerLabels(services, view.lang) }}
            entries={rows.map((r) => ({
              id: r.id,
              at: r.occurredAt.toISOString(),
              actor: r.actor,
              action: r.action,
              details: r.details ?? {},
            }))}
            page={page}
            pages={Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE))}
            actions={actions}
            actors={actors}
            filter={filter}
          />,
        );
      },
      { page: "settings:read" },
    )
    .get(
      "/account",
      async ({ view, admin }) =>
        render(
          <AccountPage
            v={view}
            sessions={await sessionsOf(services, admin.username, admin.sessionId, view.now)}
          />,
        ),
      { page: "signed-in" },
    )
    .post(
      "/account/password",
      async ({ body, view, admin, server, request }) => {
        const current = field(body, "current");
        const next = field(body, "next");
        const repeat = field(body, "repeat");
        // validate first, so a typo costs nothing (and the current password is checked only once)
        const errors = passwordErrors(view, current, next, repeat);
        if (Object.keys(errors).length)
          return render(<PasswordCard v={view} errors={errors} />, { status: 422 });
        // The current password is checked like a login (same throttle): a stolen session cannot
        // try passwords faster than the login page allows.
        try {
          await checkLogin(services, admin.username, current, clientAddress(server, request));
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const message =
            err.code === "login_throttled"
              ? view.t.login.throttled(
                  Math.max(1, Math.ceil(Number(err.details.retry_after_seconds ?? 60) / 60)),
                )
              : view.t.account.wrongCurrent;
          return render(<PasswordCard v={view} errors={{ current: message }} />, {
            status: err.code === "login_throttled" ? 429 : 422,
          });
        }
        await changeAdminPassword(
          { auth: services.store.auth, audit: services.store.audit, clock: services.clock },
          admin.username,
          next,
          {
            by: admin.username,
            keepSession: admin.sessionId,
          },
        );
        return render(<PasswordCard v={view} done />);
      },
      { page: "signed-in" },
    )
    .post(
      "/account/sessions/:id/revoke",
      async ({ params, view, admin }) => {
        const now = services.clock.now();
        const ended =
          params.id === admin.sessionId
            ? null
            : await services.store.auth.revokeOwnSession(admin.username, params.id, now);
        const ok = ended !== null;
        if (ended)
          await services.settings.audit(admin.username, "admin.sessions_revoked", endedSessions([ended]));
        return render(
          <SessionsCard
            v={view}
            sessions={await sessionsOf(services, admin.username, admin.sessionId, now)}
            message={ok ? view.t.account.revoked : undefined}
          />,
        );
      },
      { page: "signed-in" },
    )
    .post(
      "/account/sessions/revoke-others",
      async ({ view, admin }) => {
        const now = services.clock.now();
        const ended = await services.store.auth.revokeSessions(admin.username, admin.sessionId, now);
        const n = ended.length;
        if (n) await services.settings.audit(admin.username, "admin.sessions_revoked", endedSessions(ended));
        return render(
          <SessionsCard
            v={view}
            sessions={await sessionsOf(services, admin.username, admin.sessionId, now)}
            message={view.t.account.revokedOthers(n)}
          />,
        );
      },
      { page: "signed-in" },
    );
