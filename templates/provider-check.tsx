/** @jsxImportSource @kitajs/html */
/** The Settings page's "Check" button beside each provider key and the result it shows inline. */
import { Alert } from "./components";
import { pt } from "./i18n/providers";
import { Icon } from "./icons";
import type { View } from "./view";

/** The parts of a `provider check` report the page shows. */
export interface CheckResultView {
  ok: boolean;
  code: string | null;
  reason: string | null;
  model: string | null;
  latencyMs: number;
  imageModels?: string[];
  balance?: Record<string, unknown>;
  rateLimits?: Record<string, unknown>;
  quota: { requests: number; limit: number | null } | null;
}

const facts = (o: Record<string, unknown>) =>
  Object.entries(o)
    .map(([k, val]) => `${k}=${String(val)}`)
    .join(", ");

/** Failures found before any call: the reason is our own sentence, already said by the code's. */
const OURS = new Set(["no_key", "no_public_url"]);

export function CheckResult({ v, r }: { v: View; r: CheckResultView }): JSX.Element {
  const t = pt(v).check;
  const lines: string[] = [];
  if (r.model) lines.push(t.model(r.model));
  if (r.imageModels?.length) lines.push(t.models(r.imageModels.join(", ")));
  if (r.balance) lines.push(t.balance(facts(r.balance)));
  if (r.rateLimits) lines.push(t.rateLimits(facts(r.rateLimits)));
  if (r.quota) lines.push(t.today(r.quota.requests, r.quota.limit));
  return (
    <div class="check-result" data-ok={String(r.ok)} data-code={r.code ?? ""}>
      {r.ok ? (
        <Alert kind="success">
          <span safe>{t.ok((r.latencyMs / 1000).toFixed(1))}</span>
        </Alert>
      ) : (
        <Alert kind="error">
          <strong safe>{`${t.failed}: ${t.codes[r.code ?? "failed"] ?? t.codes.failed}`}</strong>
          {r.reason && !OURS.has(r.code ?? "") ? (
            <div class="small" data-provider-words>
              <span safe>{t.providerSaid}</span>{" "}
              <q class="raw" lang="en" translate="no" safe>
                {r.reason}
              </q>
            </div>
          ) : (
            ""
          )}
        </Alert>
      )}
      {lines.length ? (
        <ul class="small muted">
          {lines.map((l) => (
            <li safe>{l}</li>
          ))}
        </ul>
      ) : (
        ""
      )}
    </div>
  );
}

/** The button; it checks the key typed in the field beside it, else the stored one. */
export function CheckButton({ v, provider }: { v: View; provider: string }): JSX.Element {
  const t = pt(v).check;
  return (
    <div class="key-actions stack">
      <div class="row">
        <button
          type="button"
          class="btn small ghost"
          id={`check-${provider}-button`}
          hx-post={`/settings/keys/${provider}/check`}
          hx-include={`#key-${provider}`}
          hx-target={`#check-${provider}`}
          hx-swap="innerHTML"
          hx-indicator={`#check-${provider}-progress`}
          hx-disabled-elt="this"
        >
          <Icon name="play" />
          <span safe>{t.button}</span>
        </button>
        <span class="progress" id={`check-${provider}-progress`} role="status">
          <span class="spinner"></span>
          <span safe>{t.running}</span>
        </span>
      </div>
      <div id={`check-${provider}`} aria-live="polite"></div>
    </div>
  );
}
