/** @jsxImportSource @kitajs/html */
/** Provider quota views: the warning banners (80 % / exhausted) and today's usage per provider. */
import { Alert, AlertText, Card, confirmAttrs, Para } from "./components";
import { pt } from "./i18n/providers";
import { Icon } from "./icons";
import { can, fmtDateTime, type View } from "./view";

export interface QuotaView {
  provider: string;
  label: string;
  requests: number;
  limit: number | null;
  usedRatio: number | null;
  warning: boolean;
  exhausted: boolean;
  exhaustedByProvider: boolean;
  resetsAt: Date;
  zone: string;
}

function resetText(v: View, q: QuotaView): string {
  const zone = pt(v).quota.zone[q.zone] ?? q.zone;
  return `${fmtDateTime(v, q.resetsAt)} (${zone})`;
}

/**
 * A banner per provider at ≥ 80 % of its limit, an error banner when it is used up — with a Resume
 * button when the provider's own answer switched it off, a link to the limits when ours did.
 */
export function QuotaBanners({
  v,
  quotas,
  message,
}: {
  v: View;
  quotas: QuotaView[];
  message?: string;
}): JSX.Element {
  const t = pt(v).quota;
  return (
    <div id="quota-banners">
      <AlertText kind="success" text={message} />
      {quotas
        .filter((q) => q.warning || q.exhausted)
        .map((q) =>
          q.exhausted ? (
            <Alert kind="error">
              <span safe data-quota={q.provider} data-state="exhausted">
                {t.exhausted(q.label, resetText(v, q))}
              </span>
              {q.exhaustedByProvider && can(v, "settings:write") ? (
                <>
                  {" "}
                  <button
                    type="button"
                    class="btn small"
                    hx-post={`/providers/${q.provider}/resume`}
                    hx-target="#quota-banners"
                    hx-swap="outerHTML"
                    {...confirmAttrs(v.t.console.actions.resume, t.confirmResume(q.label))}
                    data-resume={q.provider}
                  >
                    <Icon name="play" />
                    <span safe>{t.resume}</span>
                  </button>
                </>
              ) : !q.exhaustedByProvider && can(v, "settings:read") ? (
                <>
                  {" "}
                  <a href="/settings#quota-limits" safe>
                    {t.raiseLimit}
                  </a>
                </>
              ) : (
                ""
              )}
            </Alert>
          ) : (
            <Alert kind="warn">
              <span safe data-quota={q.provider} data-state="warning">
                {t.warn(q.label, Math.floor((q.usedRatio ?? 0) * 100), resetText(v, q))}
              </span>
            </Alert>
          ),
        )}
    </div>
  );
}

/** Today's requests against the limit for each network provider. */
export function QuotaPanel({ v, quotas }: { v: View; quotas: QuotaView[] }): JSX.Element {
  const t = pt(v).quota;
  return (
    <Card id="provider-quotas" title={t.title} hint={t.hint}>
      <div class="quota-list">
        {quotas.map((q) => (
          <div class="quota-row" data-provider={q.provider}>
            <strong safe>{q.label}</strong>
            <span class={q.exhausted ? "pill bad" : q.warning ? "pill busy" : "pill"} safe>
              {t.requests(q.requests, q.limit)}
            </span>
            {q.limit !== null ? (
              <progress
                class="quota-meter"
                max={String(q.limit)}
                value={String(Math.min(q.requests, q.limit))}
                aria-label={t.requests(q.requests, q.limit)}
              ></progress>
            ) : (
              ""
            )}
            <span class="muted small" safe>
              {t.resets(resetText(v, q))}
            </span>
            {q.exhaustedByProvider ? (
              <span class="small" safe>
                {t.exhaustedByProvider}
              </span>
            ) : (
              ""
            )}
          </div>
        ))}
      </div>
    </Card>
  );
}

/** Settings: the daily request limit per provider (empty = unlimited), with today's use beside it. */
export function QuotaLimitsCard({
  v,
  quotas,
  readOnly,
  errors = {},
  values,
  saved,
}: {
  v: View;
  quotas: QuotaView[];
  readOnly: boolean;
  errors?: Record<string, string>;
  values?: Record<string, string>;
  saved?: boolean;
}): JSX.Element {
  const t = pt(v).quota;
  return (
    <form
      id="quota-limits"
      class="card"
      hx-post="/settings/limits"
      hx-target="this"
      hx-swap="outerHTML"
      novalidate
    >
      <h2 safe>{t.limitsTitle}</h2>
      <p class="hint" safe>
        {t.limitsHint}
      </p>
      <AlertText kind="success" text={saved ? t.limitsSaved : undefined} />
      <AlertText kind="error" text={errors._} />
      <QuotaBanners v={v} quotas={quotas} />
      {quotas.map((q) => {
        const name = `provider_daily_limit.${q.provider}`;
        const error = errors[name];
        return (
          <div class={error ? "field invalid" : "field"} data-field={name}>
            <label for={`f-limit-${q.provider}`}>
              <span safe>{t.limitLabel(q.label)}</span>
            </label>
            <input
              type="number"
              id={`f-limit-${q.provider}`}
              name={name}
              min="1"
              step="1"
              inputmode="numeric"
              placeholder={t.unlimited}
              value={values?.[name] ?? (q.limit === null ? "" : String(q.limit))}
              disabled={readOnly}
            />
            <p class="hint" safe>
              {`${t.requests(q.requests, q.limit)} · ${t.resets(resetText(v, q))}`}
            </p>
            <Para class="field-error" text={error} />
          </div>
        );
      })}
      {readOnly ? (
        ""
      ) : (
        <button class="btn" type="submit" safe>
          {t.saveLimits}
        </button>
      )}
    </form>
  );
}
