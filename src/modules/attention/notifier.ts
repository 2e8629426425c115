/**
 * Optional notifications for the operator who is not looking at the console: when a slot's booth
 * jobs keep failing (a burst) and when it works again (recovery), a message goes to an outgoing
 * webhook (JSON) and/or a Telegram chat (Bot API `sendMessage`), as set on the settings page (the
 * NOTIFY_* environment variables are the defaults). The state per slot lives in
 * PostgreSQL and changes with one conditional upsert, so with several instances each burst and
 * each recovery is announced once.
 */

import { DEFAULT_LANG, dict } from "../../../templates/i18n/index";
import type { SlotAttention } from "../../domain/attention";
import { AppError } from "../../lib/errors";
import { resolvedHostProblem } from "../../lib/outbound";
import type { Services } from "../../services";
import type { NotifyTargets } from "../../settings/service";
import { slotAttention } from "./service";

/** Failures within the attention window (one hour) that make a failing slot a burst worth a message. */
export const BURST_FAILURES = 3;
const SEND_TIMEOUT_MS = 5_000;

export type NoticeKind = "slot_failing" | "slot_recovered" | "test";

export interface Notice {
  kind: NoticeKind;
  slotId: string | null;
  slotName: string | null;
  failures: number;
  reason: string | null;
  text: string;
  at: string;
}

export interface SendResult {
  target: "webhook" | "telegram";
  ok: boolean;
  /** Why it was not sent (absent when sent). */
  cause?: SendCause;
  /** The cause in plain English, for the log. */
  error?: string;
}

/**
 * Why a send failed, in words an operator can act on: the name did not resolve, the host refused
 * the connection or did not answer, TLS failed (and how), or the service answered an HTTP error —
 * with its own message (Telegram's `description`, a webhook's `message`/`error`/text).
 */
export type SendCause =
  | { kind: "dns" | "refused" | "timeout" | "reset" | "redirect"; detail: string }
  | { kind: "internal" | "lan"; detail: string }
  | { kind: "tls"; detail: TlsProblem }
  | { kind: "http"; detail: string }
  | { kind: "network"; detail: string };

export type TlsProblem = "self_signed" | "expired" | "wrong_name" | "untrusted" | "handshake" | "other";

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "?";
  }
}

function tlsProblem(code: string, message: string): TlsProblem | null {
  const text = `${code} ${message}`;
  if (/SELF_SIGNED|self[- ]signed/i.test(text)) return "self_signed";
  if (/EXPIRED|expired/i.test(text)) return "expired";
  if (/ALTNAME|HOSTNAME|does not match/i.test(text)) return "wrong_name";
  if (/UNABLE_TO_(GET|VERIFY)|ISSUER|untrusted|CERT_UNTRUSTED|CERT_/i.test(text)) return "untrusted";
  if (code === "EPROTO" || /handshake/i.test(text)) return "handshake";
  if (/TLS|SSL|certificate/i.test(text)) return "other";
  return null;
}

/** A thrown fetch error as a cause (Bun's codes: ENOTFOUND, ECONNREFUSED, TimeoutError, EPROTO, …). */
export function causeOf(err: unknown, url: string): SendCause {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : String(err);
  const host = hostOf(url);
  if (name === "TimeoutError" || name === "AbortError" || /^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT)$/.test(code))
    return { kind: "timeout", detail: host };
  if (
    /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|ENODATA|DNSException)$/.test(code) ||
    /getaddrinfo/.test(message)
  )
    return { kind: "dns", detail: host };
  if (code === "ECONNREFUSED") return { kind: "refused", detail: host };
  if (code === "UnexpectedRedirect" || /redirect/i.test(message)) return { kind: "redirect", detail: host };
  const tls = tlsProblem(code, message);
  if (tls) return { kind: "tls", detail: tls };
  if (/^(ECONNRESET|EPIPE|ECONNABORTED)$/.test(code)) return { kind: "reset", detail: host };
  return { kind: "network", detail: code || name || "error" };
}

/** The service's own words from an error answer's body (JSON fields first, else the text). */
export function serviceMessage(body: string): string | null {
  let text = body;
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const err = j.error as unknown;
    const found =
      [
        j.description,
        j.message,
        typeof err === "object" && err ? (err as { message?: unknown }).message : err,
      ].find((x) => typeof x === "string" && x.trim()) ?? null;
    if (typeof found === "string") text = found;
    else return null;
  } catch {
    // not JSON: the text itself (an HTML error page says little: only its first line is kept)
  }
  const line = text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return line ? line.slice(0, 200) : null;
}

/** The cause in plain English (the log's words; the pages say it in their language). */
export function causeInEnglish(c: SendCause): string {
  switch (c.kind) {
    case "dns":
      return `the name ${c.detail} does not resolve`;
    case "refused":
      return `${c.detail} refused the connection`;
    case "timeout":
      return `${c.detail} did not answer in ${SEND_TIMEOUT_MS / 1000} s`;
    case "reset":
      return `${c.detail} closed the connection`;
    case "redirect":
      return `${c.detail} answered with a redirect`;
    case "internal":
      return `${c.detail} is a link-local or metadata address, never called`;
    case "lan":
      return `${c.detail} is on this box or the LAN (allowed only with NOTIFY_ALLOW_LAN=true)`;
    case "tls":
      return `TLS failed (${c.detail})`;
    case "http":
      return `HTTP ${c.detail}`;
    case "network":
      return `network error (${c.detail})`;
  }
}

function failed(target: SendResult["target"], cause: SendCause): SendResult {
  return { target, ok: false, cause, error: causeInEnglish(cause) };
}

export function notifyConfigured(n: NotifyTargets): boolean {
  return !!n.webhookUrl || !!(n.telegram.botToken && n.telegram.chatId);
}

function slotTitle(name: string, id: string): string {
  const t = dict(DEFAULT_LANG);
  const m = name.match(/^Слот (\d{2})$/);
  return `«${m ? t.slot.defaultName(m[1]!) : name}» (${id})`;
}

export function noticeFor(
  kind: "slot_failing" | "slot_recovered",
  s: SlotAttention,
  at: Date,
  link: string | null,
) {
  const t = dict(DEFAULT_LANG);
  const reason = s.lastFailureReason
    ? (t.jobs.reasons[s.lastFailureReason] ?? s.lastFailureReason)
    : t.common.none;
  const head =
    kind === "slot_failing"
      ? t.notify.failing(slotTitle(s.name, s.slotId), s.failuresInWindow, reason)
      : t.notify.recovered(slotTitle(s.name, s.slotId));
  return {
    kind,
    slotId: s.slotId,
    slotName: s.name,
    failures: s.failuresInWindow,
    reason: s.lastFailureReason,
    text: link ? `${head}\n${link}` : head,
    at: at.toISOString(),
  } satisfies Notice;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    redirect: "error",
  });
}

/** Sends one notice to every configured target; failures are reported, never thrown. */
export async function sendNotice(n: NotifyTargets, notice: Notice): Promise<SendResult[]> {
  const out: SendResult[] = [];
  // A name is checked again once resolved (the settings refused internal literals already): a public
  // name pointing inside is not called, and the answer does not map internal services.
  const hostProblem = n.webhookUrl
    ? await resolvedHostProblem(new URL(n.webhookUrl), n.webhookAllowsLan)
    : null;
  if (n.webhookUrl && hostProblem) {
    out.push(failed("webhook", { kind: hostProblem, detail: hostOf(n.webhookUrl) }));
  } else if (n.webhookUrl) {
    try {
      const res = await post(n.webhookUrl, {
        event: notice.kind,
        slot_id: notice.slotId,
        slot_name: notice.slotName,
        failures_last_hour: notice.failures,
        last_failure_reason: notice.reason,
        text: notice.text,
        at: notice.at,
      });
      if (res.ok) {
        await res.body?.cancel();
        out.push({ target: "webhook", ok: true });
      } else {
        const said = serviceMessage(await res.text().catch(() => ""));
        out.push(failed("webhook", { kind: "http", detail: `${res.status}${said ? `: ${said}` : ""}` }));
      }
    } catch (err) {
      out.push(failed("webhook", causeOf(err, n.webhookUrl)));
    }
  }
  if (n.telegram.botToken && n.telegram.chatId) {
    // the token is part of the URL: it is never logged or shown (a cause names the API's host only)
    const url = `${n.telegram.apiBase}/bot${n.telegram.botToken}/sendMessage`;
    try {
      const res = await post(url, {
        chat_id: n.telegram.chatId,
        text: notice.text,
        disable_web_page_preview: true,
      });
      const body = (await res.json().catch(() => null)) as { ok?: boolean; description?: string } | null;
      out.push(
        res.ok && body?.ok
          ? { target: "telegram", ok: true }
          : failed("telegram", {
              kind: "http",
              detail: `${res.status}${body?.description ? `: ${String(body.description).slice(0, 200)}` : ""}`,
            }),
      );
    } catch (err) {
      out.push(failed("telegram", causeOf(err, url)));
    }
  }
  return out;
}

/** The last notifications sent (tests and real ones), newest first, for `/system`. */
export async function recentNotifications(services: Pick<Services, "store">, limit = 20) {
  return (await services.store.notifications.recent(limit)).map((r) => ({
    at: r.sentAt,
    event: r.event,
    target: r.target,
    ok: r.ok,
    cause: r.cause,
    detail: r.detail,
    slotId: r.slotId,
  }));
}

/** Keeps the sends' results for `/system`'s history; a history that cannot be written is only logged. */
async function recordSends(
  services: Pick<Services, "store" | "clock" | "log">,
  notice: Notice,
  results: SendResult[],
  by: string | null,
): Promise<void> {
  const at = services.clock.now();
  await services.store.notifications
    .record(
      results.map((r) => ({
        sentAt: at,
        event: notice.kind,
        target: r.target,
        ok: r.ok,
        cause: r.cause?.kind ?? null,
        detail: r.cause?.detail ?? null,
        slotId: notice.slotId,
        sentBy: by,
      })),
    )
    .catch((err) => services.log.warn("notify.history_not_written", { error: err }));
}

/**
 * Test sends are a small bucket per server: TEST_SEND_BURST at once, then one more every
 * TEST_SEND_REFILL_MS — an operator trying a fix is never held up, a button hammered (or a script)
 * does not become a flood of outbound requests.
 */
export const TEST_SEND_BURST = 5;
export const TEST_SEND_REFILL_MS = 3_000;
const testSendBuckets = new WeakMap<object, { tokens: number; at: number }>();

function takeTestSend(owner: object): void {
  const now = performance.now();
  const b = testSendBuckets.get(owner) ?? { tokens: TEST_SEND_BURST, at: now };
  b.tokens = Math.min(TEST_SEND_BURST, b.tokens + (now - b.at) / TEST_SEND_REFILL_MS);
  b.at = now;
  testSendBuckets.set(owner, b);
  if (b.tokens < 1) {
    const wait = Math.ceil(((1 - b.tokens) * TEST_SEND_REFILL_MS) / 1000);
    throw new AppError(
      "too_many_requests",
      `Too many test messages in a row; try again in ${wait} s`,
      { retry_after_seconds: wait },
      { "Retry-After": String(wait) },
    );
  }
  b.tokens -= 1;
}

/** A test message to every target configured now (none: nothing sent, an empty list). */
export async function sendTestNotice(
  services: Pick<Services, "settings" | "clock" | "log" | "store">,
  text: string,
  by: string,
): Promise<SendResult[]> {
  takeTestSend(services.settings);
  const targets = await services.settings.notifyTargets();
  if (!notifyConfigured(targets)) return [];
  const notice: Notice = {
    kind: "test",
    slotId: null,
    slotName: null,
    failures: 0,
    reason: null,
    text,
    at: services.clock.now().toISOString(),
  };
  const results = await sendNotice(targets, notice);
  services.log.info("notify.test", {
    by,
    results: results.map((r) => (r.ok ? `${r.target}:sent` : `${r.target}: ${r.error}`)),
  });
  await recordSends(services, notice, results, by);
  return results;
}

/**
 * One look at the slots: announces the bursts and recoveries that this call is first to see. With
 * nowhere to send (nothing in the settings or the environment) it looks at nothing.
 */
export async function notifyTick(
  services: Pick<Services, "store" | "clock" | "settings" | "config" | "log">,
): Promise<Notice[]> {
  const targets = await services.settings.notifyTargets();
  if (!notifyConfigured(targets)) return [];
  const now = services.clock.now();
  const slots = await slotAttention(services, now);
  const base = (await services.settings.current()).publicBaseUrl;
  const sent: Notice[] = [];
  for (const s of slots.values()) {
    const burst = s.failing && s.failuresInWindow >= BURST_FAILURES;
    // between the two (failing, but fewer failures so far) the last announced state stands
    if (!burst && s.failing) continue;
    if (!(await services.store.attention.changeNotifyState(s.slotId, burst, now))) continue;
    const notice = noticeFor(
      burst ? "slot_failing" : "slot_recovered",
      s,
      now,
      base ? `${base}/slots/${s.slotId}` : null,
    );
    const results = await sendNotice(targets, notice);
    await recordSends(services, notice, results, null);
    for (const r of results) {
      if (r.ok) services.log.info("notify.sent", { target: r.target, event: notice.kind, slot: s.slotId });
      else
        services.log.warn("notify.failed", {
          target: r.target,
          event: notice.kind,
          slot: s.slotId,
          error: r.error,
        });
    }
    sent.push(notice);
  }
  return sent;
}
