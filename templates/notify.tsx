/** @jsxImportSource @kitajs/html */
/**
 * The settings page's notification card: where failure bursts and recoveries are sent (a webhook,
 * a Telegram chat), each field from the settings or else the environment, secrets only masked, and
 * a test message. The test's outcome is the same `NotifyResult` the system page shows.
 */
import { Alert, AlertText, confirmAttrs, Field, PasswordInput } from "./components";
import { Icon } from "./icons";
import { actorName, can, fmtDateTime, type View } from "./view";

export interface NotifyFieldView {
  source: "settings" | "environment" | null;
  /** What may be shown: the chat id, the webhook's origin, the token's last characters. */
  shown: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface NotifyModel {
  webhook_url: NotifyFieldView;
  telegram_bot_token: NotifyFieldView;
  telegram_chat_id: NotifyFieldView;
}

export type NotifyFieldName = keyof NotifyModel;

export interface SendResultView {
  target: string;
  ok: boolean;
  cause?: { kind: string; detail: string | null } | null;
}

/** Why a notification was not sent, in the page's language (the service's own message quoted). */
export function causeText(
  v: View,
  cause: { kind: string; detail: string | null } | null | undefined,
): string {
  const c = v.t.system.causes;
  if (!cause) return c.network("?");
  const d = cause.detail ?? "?";
  switch (cause.kind) {
    case "dns":
      return c.dns(d);
    case "refused":
      return c.refused(d);
    case "timeout":
      return c.timeout(d);
    case "reset":
      return c.reset(d);
    case "redirect":
      return c.redirect(d);
    case "internal":
      return c.internal(d);
    case "lan":
      return c.lan(d);
    case "tls":
      return c.tls(c.tlsProblems[d] ?? c.tlsProblems.other!);
    case "http":
      return c.http(d);
    default:
      return c.network(d);
  }
}

export function NotifyResult({ v, results }: { v: View; results: SendResultView[] }): JSX.Element {
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
                : v.t.system.notifyFailed(v.t.system.targets[r.target] ?? r.target, causeText(v, r.cause))}
            </span>
          </Alert>
        ))
      )}
    </div>
  );
}

/**
 * Where a field's value comes from (labelled: which field), what of it may be shown, who set it —
 * the last unless `sameChange` says the line above already told the same change.
 */
function FieldStatus({
  v,
  f,
  name,
  label,
  sameChange = false,
}: {
  v: View;
  f: NotifyFieldView;
  name: NotifyFieldName;
  label: string;
  sameChange?: boolean;
}): JSX.Element {
  const n = v.t.settings.notify;
  const source = f.source === "settings" ? n.fromSettings : f.source === "environment" ? n.fromEnv : n.notSet;
  return (
    <div class="row small" data-notify-field={name} data-source={f.source ?? "none"}>
      <span class="field-name" safe>{`${label}:`}</span>
      <span class={f.source ? "pill ok" : "pill off"} safe>
        {source}
      </span>
      {f.shown ? (
        <span class="mono break" safe>
          {n.current(f.shown)}
        </span>
      ) : (
        ""
      )}
      {f.updatedAt && !sameChange ? (
        <span class="muted" safe>
          {n.updated(fmtDateTime(v, f.updatedAt), f.updatedBy ? actorName(v, f.updatedBy) : v.t.common.none)}
        </span>
      ) : (
        ""
      )}
    </div>
  );
}

/** "Remove" for a value stored here (the environment's, if any, applies again). */
function ClearButton({ v, f, name }: { v: View; f: NotifyFieldView; name: NotifyFieldName }): JSX.Element {
  if (f.source !== "settings") return "";
  return (
    <button
      type="button"
      class="btn small danger ghost"
      hx-post="/settings/notify"
      hx-vals={JSON.stringify({ clear: name })}
      {...confirmAttrs(v.t.console.actions.clearNotify, v.t.settings.notify.confirmClear)}
      hx-target="#notify-settings"
      hx-swap="outerHTML"
      data-clear={name}
      safe
    >
      {v.t.settings.notify.clear}
    </button>
  );
}

const INPUT_ID: Record<NotifyFieldName, string> = {
  webhook_url: "notify-webhook-url",
  telegram_bot_token: "notify-bot-token",
  telegram_chat_id: "notify-chat-id",
};

export function NotifyCard({
  v,
  m,
  errors = {},
  message,
  results,
  values = {},
}: {
  v: View;
  m: NotifyModel;
  errors?: Partial<Record<NotifyFieldName | "_", string>>;
  message?: { kind: "success" | "info"; text: string };
  results?: SendResultView[];
  /** What was typed, given back after an error (the chat id and URL; never the token). */
  values?: Partial<Record<NotifyFieldName, string>>;
}): JSX.Element {
  const n = v.t.settings.notify;
  const ro = !can(v, "settings:write");
  const text = (name: NotifyFieldName, placeholder: string, inputmode?: "url") => (
    <input
      type="text"
      id={INPUT_ID[name]}
      name={name}
      autocomplete="off"
      inputmode={inputmode}
      placeholder={placeholder}
      value={values[name]}
    />
  );
  const field = (name: NotifyFieldName, label: string, hint: string, input: JSX.Element) => (
    <Field label={label} name={name} id={INPUT_ID[name]} hint={hint} error={errors[name]}>
      <div class="row">
        <div class="grow-field">{input}</div>
        <ClearButton v={v} f={m[name]} name={name} />
      </div>
    </Field>
  );
  return (
    <section class="card" id="notify-settings">
      <h2>
        <Icon name="alert" /> <span safe>{n.title}</span>
      </h2>
      <p class="hint" safe>
        {n.hint}
      </p>
      <AlertText kind={message?.kind ?? "info"} text={message?.text} />
      <AlertText kind="error" text={errors._} />
      {results ? <NotifyResult v={v} results={results} /> : ""}
      <form hx-post="/settings/notify" hx-target="#notify-settings" hx-swap="outerHTML" class="stack">
        <fieldset class="bare">
          <legend class="eyebrow" safe>
            {n.webhook}
          </legend>
          <FieldStatus v={v} f={m.webhook_url} name="webhook_url" label={n.webhookUrl} />
          {ro
            ? ""
            : field("webhook_url", n.webhookUrl, n.webhookHint, text("webhook_url", "https://…", "url"))}
        </fieldset>
        <fieldset class="bare">
          <legend class="eyebrow" safe>
            {n.telegram}
          </legend>
          <FieldStatus v={v} f={m.telegram_bot_token} name="telegram_bot_token" label={n.botToken} />
          <FieldStatus
            v={v}
            f={m.telegram_chat_id}
            name="telegram_chat_id"
            label={n.chatId}
            sameChange={
              // saved by one submit: the same second (as shown) and the same admin
              !!m.telegram_chat_id.updatedAt &&
              !!m.telegram_bot_token.updatedAt &&
              fmtDateTime(v, m.telegram_chat_id.updatedAt) ===
                fmtDateTime(v, m.telegram_bot_token.updatedAt) &&
              m.telegram_chat_id.updatedBy === m.telegram_bot_token.updatedBy
            }
          />
          {ro
            ? ""
            : [
                field(
                  "telegram_bot_token",
                  n.botToken,
                  n.botTokenHint,
                  // kept through an error elsewhere on the card (the server never sends it back)
                  <PasswordInput
                    v={v}
                    id={INPUT_ID.telegram_bot_token}
                    name="telegram_bot_token"
                    autocomplete="off"
                    preserve={Object.keys(errors).length > 0 && !errors.telegram_bot_token}
                  />,
                ),
                field("telegram_chat_id", n.chatId, n.chatIdHint, text("telegram_chat_id", "-1001234567890")),
              ]}
        </fieldset>
        {ro ? (
          ""
        ) : (
          <div class="row">
            <button class="btn" type="submit">
              <Icon name="check" />
              <span safe>{n.save}</span>
            </button>
            <button
              class="btn ghost"
              type="button"
              hx-post="/settings/notify/test"
              hx-target="#notify-settings"
              hx-swap="outerHTML"
              id="notify-test"
            >
              <Icon name="play" />
              <span safe>{n.test}</span>
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
