/** @jsxImportSource @kitajs/html */
/** Settings: timings and caps, public base URL, ingest password rotation, provider keys, notifications, purge. Read-only without settings:write. */

import { MIN_INGEST_PASSWORD } from "../../src/domain/passwords";
import {
  Alert,
  AlertText,
  CopyInput,
  confirmAttrs,
  Field,
  PageHead,
  PageNav,
  PasswordInput,
} from "../components";
import type { FieldErrors } from "../forms";
import { pt } from "../i18n/providers";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { NotifyCard, type NotifyModel } from "../notify";
import { PricesCard, type PricesModel } from "../prices";
import { CheckButton } from "../provider-check";
import { QuotaLimitsCard, type QuotaView } from "../quota";
import { actorName, can, fmtDateTime, type View } from "../view";

export interface SettingsModel {
  syncSeconds: number;
  retentionHours: number;
  maxInFlight: number;
  fallbackMinSeconds: number;
  concurrency: Record<string, number>;
  publicBaseUrl: string | null;
  ranges: Record<string, { minimum: number; maximum: number }>;
  ingest: { isSet: boolean; updatedAt: string | null; updatedBy: string | null };
  keys: {
    id: string;
    label: string;
    configured: boolean;
    source: string | null;
    updatedAt: string | null;
    updatedBy: string | null;
  }[];
  providerLabels: Record<string, string>;
  counts: { kept: number; expired: number };
  lastCleanupAt: Date | null;
}

export function TimingForm({
  v,
  m,
  errors = {},
  saved,
  values,
}: {
  v: View;
  m: SettingsModel;
  errors?: FieldErrors;
  saved?: boolean;
  values?: Record<string, string>;
}): JSX.Element {
  const ro = !can(v, "settings:write");
  const r = (k: string) => m.ranges[k] ?? { minimum: 0, maximum: 0 };
  const val = (k: string, d: unknown) => values?.[k] ?? String(d ?? "");
  const numberField = (name: string, label: string, hint: string, current: unknown) => (
    <Field label={label} name={name} error={errors[name]} hint={hint}>
      <input
        type="number"
        id={`f-${name}`}
        name={name}
        min={String(r(name).minimum)}
        max={String(r(name).maximum)}
        value={val(name, current)}
        disabled={ro}
      />
    </Field>
  );
  return (
    <form id="timing-form" class="card" hx-post="/settings" hx-target="this" hx-swap="outerHTML" novalidate>
      <h2>
        <Icon name="clock" /> <span safe>{v.t.settings.timing}</span>
      </h2>
      <AlertText kind="success" text={saved ? v.t.settings.saved : undefined} />
      <AlertText kind="error" text={Object.keys(errors).length ? v.t.settings.fixErrors : undefined} />
      <div class="grid-2">
        {numberField("sync_response_seconds", v.t.settings.syncSeconds, v.t.settings.syncHint, m.syncSeconds)}
        {numberField(
          "result_retention_hours",
          v.t.settings.retention,
          v.t.settings.retentionHint,
          m.retentionHours,
        )}
        {numberField(
          "max_in_flight_jobs",
          v.t.settings.maxInFlight,
          v.t.settings.maxInFlightHint,
          m.maxInFlight,
        )}
        {numberField(
          "fallback_min_seconds",
          v.t.settings.fallbackMinSeconds,
          v.t.settings.fallbackMinSecondsHint,
          m.fallbackMinSeconds,
        )}
      </div>
      <fieldset class="bare">
        <legend class="eyebrow" safe>
          {v.t.settings.concurrency}
        </legend>
        <div class="grid-3">
          {Object.entries(m.concurrency).map(([id, n]) => (
            <Field
              label={m.providerLabels[id] ?? id}
              name={`provider_concurrency.${id}`}
              error={errors[`provider_concurrency.${id}`]}
            >
              <input
                type="number"
                id={`f-provider_concurrency-${id}`}
                name={`provider_concurrency.${id}`}
                min={String(r("provider_concurrency").minimum)}
                max={String(r("provider_concurrency").maximum)}
                value={val(`provider_concurrency.${id}`, n)}
                disabled={ro}
              />
            </Field>
          ))}
        </div>
      </fieldset>
      <Field
        label={v.t.settings.publicBaseUrl}
        name="public_base_url"
        error={errors.public_base_url}
        hint={v.t.settings.publicBaseUrlHint}
      >
        <input
          type="url"
          id="f-public_base_url"
          name="public_base_url"
          value={val("public_base_url", m.publicBaseUrl)}
          placeholder="http://192.168.1.10:8080"
          disabled={ro}
        />
      </Field>
      {ro ? (
        ""
      ) : (
        <button class="btn" type="submit">
          <Icon name="check" />
          <span safe>{v.t.settings.saveTiming}</span>
        </button>
      )}
    </form>
  );
}

export function IngestPasswordCard({
  v,
  m,
  newPassword,
  error,
}: {
  v: View;
  m: SettingsModel;
  newPassword?: string;
  error?: string;
}): JSX.Element {
  const ro = !can(v, "settings:write");
  // A generated password is shown once: an error re-rendering the card (the password did not
  // change) keeps the one on the screen (`hx-preserve`); a successful change replaces it.
  return (
    <section class="card" id="ingest-password">
      <h2>
        <Icon name="key" /> <span safe>{v.t.settings.ingestPassword}</span>
      </h2>
      <p safe>
        {m.ingest.isSet
          ? v.t.settings.ingestPasswordStatus(
              fmtDateTime(v, m.ingest.updatedAt),
              m.ingest.updatedBy ? actorName(v, m.ingest.updatedBy) : v.t.common.none,
            )
          : v.t.settings.ingestPasswordNotSet}
      </p>
      <p class="hint" safe>
        {v.t.settings.ingestPasswordHint}
      </p>
      {error && !newPassword ? <div id="ingest-secret" hx-preserve="true"></div> : ""}
      {newPassword ? (
        <div class="secret-once stack" role="status" id="ingest-secret">
          <div safe>{v.t.settings.newPasswordOnce}</div>
          <CopyInput v={v} id="new-ingest-password" value={newPassword} label={v.t.settings.newPassword} />
        </div>
      ) : (
        ""
      )}
      <AlertText kind="error" text={error} />
      {ro ? (
        ""
      ) : (
        <div class="stack gap-top">
          <button
            type="button"
            class="btn"
            id="generate-password"
            hx-post="/settings/ingest-password"
            hx-vals='{"generate":"true"}'
            {...confirmAttrs(v.t.console.actions.rotate, v.t.settings.confirmRotate)}
            hx-target="#ingest-password"
            hx-swap="outerHTML"
          >
            <Icon name="refresh" />
            <span safe>{v.t.settings.generate}</span>
          </button>
          <form
            class="row"
            hx-post="/settings/ingest-password"
            hx-target="#ingest-password"
            hx-swap="outerHTML"
            {...confirmAttrs(v.t.console.actions.rotate, v.t.settings.confirmRotate)}
            data-min-length={String(MIN_INGEST_PASSWORD)}
            data-too-short={v.t.settings.passwordTooShort(MIN_INGEST_PASSWORD)}
          >
            <div class="grow-field">
              <label for="ingest-value" class="sr-only" safe>
                {v.t.settings.newPassword}
              </label>
              <PasswordInput
                v={v}
                id="ingest-value"
                name="value"
                autocomplete="new-password"
                placeholder={v.t.settings.newPassword}
                preserve={!!error}
              />
            </div>
            <button class="btn ghost" type="submit" safe>
              {v.t.settings.setValue}
            </button>
            <p class="field-error" data-form-error hidden></p>
          </form>
        </div>
      )}
    </section>
  );
}

export function ProviderKeysCard({
  v,
  m,
  message,
  error,
}: {
  v: View;
  m: SettingsModel;
  message?: string;
  error?: string;
}): JSX.Element {
  const ro = !can(v, "settings:write");
  return (
    <section class="card" id="provider-keys">
      <h2>
        <Icon name="key" /> <span safe>{v.t.settings.providerKeys}</span>
      </h2>
      <AlertText kind="success" text={message} />
      <AlertText kind="error" text={error} />
      {m.keys.map((k) => (
        <div class="stack provider-key" data-provider={k.id}>
          <div class="row">
            <strong safe>{k.label}</strong>
            <span class={k.configured ? "pill ok" : "pill bad"} safe>
              {k.configured
                ? k.source === "environment"
                  ? v.t.settings.keyFromEnv
                  : v.t.settings.keyConfigured
                : v.t.settings.keyNotConfigured}
            </span>
            {k.updatedAt ? (
              <span class="muted small" safe>
                {v.t.settings.keyUpdated(fmtDateTime(v, k.updatedAt), k.updatedBy ?? "—")}
              </span>
            ) : (
              ""
            )}
          </div>
          {ro ? (
            ""
          ) : (
            <form
              class="row"
              hx-post={`/settings/keys/${k.id}`}
              hx-target="#provider-keys"
              hx-swap="outerHTML"
            >
              <div class="grow-field">
                <label for={`key-${k.id}`} class="sr-only" safe>
                  {`${v.t.settings.newKey}: ${k.label}`}
                </label>
                <PasswordInput
                  v={v}
                  id={`key-${k.id}`}
                  name="api_key"
                  autocomplete="off"
                  placeholder={v.t.settings.newKey}
                />
              </div>
              <button class="btn small" type="submit" name="action" value="replace" safe>
                {k.configured ? v.t.settings.replaceKey : v.t.settings.setKey}
              </button>
              {k.configured && k.source === "settings" ? (
                <button
                  class="btn small danger ghost"
                  type="button"
                  hx-post={`/settings/keys/${k.id}`}
                  hx-vals='{"action":"clear"}'
                  {...confirmAttrs(v.t.console.actions.clearKey, v.t.settings.confirmClearKey)}
                  hx-target="#provider-keys"
                  hx-swap="outerHTML"
                  safe
                >
                  {v.t.settings.clearKey}
                </button>
              ) : (
                ""
              )}
            </form>
          )}
          {ro ? "" : <CheckButton v={v} provider={k.id} />}
        </div>
      ))}
    </section>
  );
}

export function PurgeCard({ v, m, done }: { v: View; m: SettingsModel; done?: number }): JSX.Element {
  const ro = !can(v, "settings:write");
  return (
    <section class="card" id="purge">
      <h2>
        <Icon name="trash" /> <span safe>{v.t.settings.purge}</span>
      </h2>
      <p class="hint" safe>
        {v.t.settings.purgeHint}
      </p>
      <AlertText kind="success" text={done !== undefined ? v.t.settings.purgeDone(done) : undefined} />
      <p id="purge-counts" data-kept={String(m.counts.kept)} data-expired={String(m.counts.expired)} safe>
        {v.t.settings.purgeCounts(m.counts.kept, m.counts.expired)}
      </p>
      {m.lastCleanupAt ? (
        <p class="muted small" safe>
          {v.t.settings.lastCleanup(fmtDateTime(v, m.lastCleanupAt))}
        </p>
      ) : (
        ""
      )}
      {ro ? (
        ""
      ) : (
        <button
          type="button"
          class="btn danger ghost"
          hx-post="/settings/purge"
          {...confirmAttrs(v.t.console.actions.purge, v.t.settings.confirmPurge)}
          hx-target="#purge"
          hx-swap="outerHTML"
        >
          <Icon name="trash" />
          <span safe>{v.t.settings.purgeButton}</span>
        </button>
      )}
    </section>
  );
}

export function SettingsPage({
  v,
  m,
  quotas = [],
  notify,
  prices,
}: {
  v: View;
  m: SettingsModel;
  quotas?: QuotaView[];
  notify: NotifyModel;
  prices?: PricesModel;
}): JSX.Element {
  return (
    <Layout v={v} title={v.t.settings.title}>
      <PageHead eyebrow={v.t.settings.eyebrow} title={v.t.settings.title} />
      <PageNav
        v={v}
        links={[
          ["#timing-form", v.t.settings.timing],
          ["#quota-limits", pt(v).quota.limitsTitle],
          ["#ingest-password", v.t.settings.ingestPassword],
          ["#provider-keys", v.t.settings.providerKeys],
          ["#notify-settings", v.t.settings.notify.title],
          ["#purge", v.t.settings.purge],
        ]}
      />
      {can(v, "settings:write") ? (
        ""
      ) : (
        <Alert kind="info">
          <span safe>{v.t.common.readOnly}</span>
        </Alert>
      )}
      <div class="grid-2">
        <div>
          <TimingForm v={v} m={m} />
          <QuotaLimitsCard v={v} quotas={quotas} readOnly={!can(v, "settings:write")} />
          {prices ? <PricesCard v={v} m={prices} readOnly={!can(v, "settings:write")} /> : ""}
        </div>
        <div>
          <IngestPasswordCard v={v} m={m} />
          <ProviderKeysCard v={v} m={m} />
          <NotifyCard v={v} m={notify} />
          <PurgeCard v={v} m={m} />
        </div>
      </div>
    </Layout>
  );
}
