/**
 * Optional notifications for the operator who is not looking at the console: when a slot's booth
 * jobs keep failing (a burst) and when it works again (recovery), a message goes to an outgoing
 * webhook (JSON) and/or a Telegram chat (Bot API `sendMessage`), as set on the settings page (the
 * NOTIFY_* environment variables are the defaults). The state per slot lives in
 * PostgreSQL and changes with one conditional upsert, so with several instances each burst and
 * each recovery is announced once.
 */
import { DEFAULT_LANG, dict } from "../../../templates/i18n/index";
import type { Services } from "../../services";
import type { NotifyTargets } from "../../settings/service";
import { type SlotAttention, slotAttention } from "./service";

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
  error?: string;
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
  if (n.webhookUrl) {
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
      await res.body?.cancel();
      out.push(
        res.ok
          ? { target: "webhook", ok: true }
          : { target: "webhook", ok: false, error: `HTTP ${res.status}` },
      );
    } catch (err) {
      out.push({ target: "webhook", ok: false, error: err instanceof Error ? err.name : "error" });
    }
  }
  if (n.telegram.botToken && n.telegram.chatId) {
    try {
      // the token is part of the URL: it is never logged or shown
      const res = await post(`${n.telegram.apiBase}/bot${n.telegram.botToken}/sendMessage`, {
        chat_id: n.telegram.chatId,
        text: notice.text,
        disable_web_page_preview: true,
      });
      const body = (await res.json().catch(() => null)) as { ok?: boolean; description?: string } | null;
      out.push(
        res.ok && body?.ok
          ? { target: "telegram", ok: true }
          : {
              target: "telegram",
              ok: false,
              error: `HTTP ${res.status}${body?.description ? `: ${body.description}` : ""}`,
            },
      );
    } catch (err) {
      out.push({ target: "telegram", ok: false, error: err instanceof Error ? err.name : "error" });
    }
  }
  return out;
}

/** A test message to every target configured now (none: nothing sent, an empty list). */
export async function sendTestNotice(
  rt: Pick<Services, "settings" | "clock" | "log">,
  text: string,
  by: string,
): Promise<SendResult[]> {
  const targets = await rt.settings.notifyTargets();
  if (!notifyConfigured(targets)) return [];
  const results = await sendNotice(targets, {
    kind: "test",
    slotId: null,
    slotName: null,
    failures: 0,
    reason: null,
    text,
    at: rt.clock.now().toISOString(),
  });
  rt.log.info("notify.test", { by, results: results.map((r) => `${r.target}:${r.ok}`) });
  return results;
}

/**
 * One look at the slots: announces the bursts and recoveries that this call is first to see. With
 * nowhere to send (nothing in the settings or the environment) it looks at nothing.
 */
export async function notifyTick(
  rt: Pick<Services, "store" | "clock" | "settings" | "config" | "log">,
): Promise<Notice[]> {
  const targets = await rt.settings.notifyTargets();
  if (!notifyConfigured(targets)) return [];
  const now = rt.clock.now();
  const slots = await slotAttention(rt, now);
  const base = (await rt.settings.current()).publicBaseUrl;
  const sent: Notice[] = [];
  for (const s of slots.values()) {
    const burst = s.failing && s.failuresInWindow >= BURST_FAILURES;
    // between the two (failing, but fewer failures so far) the last announced state stands
    if (!burst && s.failing) continue;
    if (!(await rt.store.attention.changeNotifyState(s.slotId, burst, now))) continue;
    const notice = noticeFor(
      burst ? "slot_failing" : "slot_recovered",
      s,
      now,
      base ? `${base}/slots/${s.slotId}` : null,
    );
    const results = await sendNotice(targets, notice);
    for (const r of results) {
      if (r.ok) rt.log.info("notify.sent", { target: r.target, event: notice.kind, slot: s.slotId });
      else
        rt.log.warn("notify.failed", {
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
