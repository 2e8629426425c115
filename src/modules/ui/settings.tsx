/** @jsxImportSource @kitajs/html */
/** `/settings`: read for settings:read (igor sees it read-only), changes need settings:write. */
import { Elysia } from "elysia";
import type { Lang } from "../../../templates/i18n/index";
import { NotifyCard, type NotifyFieldName, type NotifyModel } from "../../../templates/notify";
import {
  IngestPasswordCard,
  ProviderKeysCard,
  PurgeCard,
  type SettingsModel,
  SettingsPage,
  TimingForm,
} from "../../../templates/pages/settings";
import { PricesCard, type PricesModel } from "../../../templates/prices";
import { CheckResult } from "../../../templates/provider-check";
import { QuotaLimitsCard } from "../../../templates/quota";
import { can, errorText, type View } from "../../../templates/view";
import { lastCleanup } from "../../cron/cleanup";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import {
  type NotifyFieldProblem,
  type NotifyTargetsUpdate,
  notifyTargetErrors,
} from "../../settings/service";
import { sendTestNotice } from "../attention/notifier";
import { checkProvider, isCheckable } from "../providers/check";
import { KEYED_PROVIDERS } from "../settings/model";
import { getSettings, NOTIFY_API_FIELDS, notifyView, updateSettings } from "../settings/service";
import { uiContext } from "./context";
import { storedResultCounts } from "./data";
import { fieldErrorsOf } from "./field-errors";
import { providerLabel } from "./labels";
import { quotaViews } from "./quota";
import { render } from "./render";

type Form = Record<string, string | string[] | undefined>;

const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);

async function notifyModel(services: Services): Promise<NotifyModel> {
  const n = await notifyView(services);
  const one = (f: (typeof n)[NotifyFieldName]) => ({
    source: f.source,
    shown: f.shown,
    updatedAt: f.updated_at,
    updatedBy: f.updated_by,
  });
  return {
    webhook_url: one(n.webhook_url),
    telegram_bot_token: one(n.telegram_bot_token),
    telegram_chat_id: one(n.telegram_chat_id),
  };
}

function notifyMessages(v: View, kind: NotifyFieldProblem): string {
  const n = v.t.settings.notify;
  return { url: n.badUrl, internal: n.internalUrl, lan: n.lanUrl, token: n.badToken, chat: n.badChat }[kind];
}

async function pricesModel(services: Services, lang: Lang): Promise<PricesModel> {
  const s = await getSettings(services);
  const labels: Record<string, string> = {};
  for (const id of KEYED_PROVIDERS) labels[id] = providerLabel(services, id, lang);
  return { prices: s.provider_price, currency: s.currency, labels };
}

async function model(services: Services, lang: Lang): Promise<SettingsModel> {
  const [s, counts, cleanup] = await Promise.all([
    getSettings(services),
    storedResultCounts(services),
    lastCleanup(services),
  ]);
  const labels: Record<string, string> = {};
  for (const id of Object.keys(s.provider_concurrency)) labels[id] = providerLabel(services, id, lang);
  for (const id of KEYED_PROVIDERS) labels[id] ??= id;
  return {
    syncSeconds: s.sync_response_seconds,
    retentionHours: s.result_retention_hours,
    maxInFlight: s.max_in_flight_jobs,
    fallbackMinSeconds: s.fallback_min_seconds,
    concurrency: s.provider_concurrency,
    publicBaseUrl: s.public_base_url,
    ranges: s.ranges as SettingsModel["ranges"],
    ingest: {
      isSet: s.ingest_password.is_set,
      updatedAt: s.ingest_password.updated_at,
      updatedBy: s.ingest_password.updated_by,
    },
    keys: KEYED_PROVIDERS.map((id) => {
      const k = s.provider_keys[id];
      return {
        id,
        label:
          providerLabel(services, id, lang) === id
            ? id[0]!.toUpperCase() + id.slice(1)
            : providerLabel(services, id, lang),
        configured: !!k?.configured,
        source: k?.source ?? null,
        updatedAt: k?.updated_at ?? null,
        updatedBy: k?.updated_by ?? null,
      };
    }),
    providerLabels: labels,
    counts,
    lastCleanupAt: cleanup?.finishedAt ?? null,
  };
}

/** Form strings → the PUT /api/settings body (numbers stay strings when they do not parse, to be reported). */
function timingBody(form: Form): { body: Record<string, unknown>; values: Record<string, string> } {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) {
    const s = last(v);
    if (typeof s === "string") values[k] = s;
  }
  const num = (s: string | undefined) =>
    s !== undefined && s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s;
  const body: Record<string, unknown> = {};
  for (const k of [
    "sync_response_seconds",
    "result_retention_hours",
    "max_in_flight_jobs",
    "fallback_min_seconds",
  ]) {
    if (values[k] !== undefined) body[k] = num(values[k]);
  }
  const concurrency: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(values)) {
    if (k.startsWith("provider_concurrency.")) concurrency[k.slice("provider_concurrency.".length)] = num(s);
  }
  if (Object.keys(concurrency).length) body.provider_concurrency = concurrency;
  if (values.public_base_url !== undefined) {
    body.public_base_url = values.public_base_url.trim() === "" ? null : values.public_base_url.trim();
  }
  return { body, values };
}

function message(v: View, err: unknown): string {
  if (!(err instanceof AppError)) throw err;
  const fields = fieldErrorsOf(err, v);
  if (fields) return Object.values(fields).join(" ");
  return errorText(v, err.code, err.message);
}

/**
 * A form's per-provider fields (`<prefix><provider>`): the texts as typed (shown again after a
 * refusal) and each provider's value as `read` makes it.
 */
function perProvider(
  form: Form,
  prefix: string,
  read: (typed: string) => unknown,
): { values: Record<string, string>; byProvider: Record<string, unknown> } {
  const values: Record<string, string> = {};
  const byProvider: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(form)) {
    const s = last(raw);
    if (!k.startsWith(prefix) || typeof s !== "string") continue;
    values[k] = s;
    byProvider[k.slice(prefix.length)] = read(s);
  }
  return { values, byProvider };
}

/** A typed number: null when empty, the number when it reads as one, else `typed` for the validation to refuse. */
function typedNumber(n: string, typed: string = n): number | string | null {
  return n === "" ? null : Number.isFinite(Number(n)) ? Number(n) : typed;
}

/** The prices form → the settings body: a price per provider, and the currency. */
function pricesBody(form: Form): { body: Record<string, unknown>; values: Record<string, string> } {
  // a decimal comma is how a Russian keyboard types 0,039
  const { values, byProvider } = perProvider(form, "provider_price.", (s) =>
    typedNumber(s.trim().replace(",", "."), s),
  );
  const body: Record<string, unknown> = { provider_price: byProvider };
  const currency = last(form.currency);
  if (typeof currency === "string") {
    values.currency = currency;
    body.currency = currency.trim().toUpperCase();
  }
  return { body, values };
}

/** The daily limits form → the settings body: a limit per provider. */
function limitsBody(form: Form): { body: Record<string, unknown>; values: Record<string, string> } {
  const { values, byProvider } = perProvider(form, "provider_daily_limit.", (s) => typedNumber(s.trim()));
  return { body: { provider_daily_limit: byProvider }, values };
}

/** How a form's card answers a change: saved, or refused with its errors and what was typed. */
type FormAnswer = { saved: true } | { errors: Record<string, string>; values: Record<string, string> };

/**
 * Saves a settings change made in a card's form and answers with that card: saved, or (an AppError)
 * with the errors by field or for the whole form, at the error's status. Anything else is rethrown.
 */
async function saveAndAnswer(
  services: Services,
  v: View,
  by: string,
  update: Record<string, unknown>,
  values: Record<string, string>,
  card: (answer: FormAnswer) => Promise<JSX.Element>,
): Promise<Response> {
  try {
    await updateSettings(services, update, by);
    return render(await card({ saved: true }));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const errors = fieldErrorsOf(err, v) ?? { _: errorText(v, err.code, err.message) };
    return render(await card({ errors, values }), { status: err.status });
  }
}

/** A settings card again with what refused the change, at the refusal's status. */
async function refusedCard(
  Card: (p: { v: View; m: SettingsModel; error?: string }) => JSX.Element,
  services: Services,
  v: View,
  err: unknown,
): Promise<Response> {
  const error = message(v, err);
  return render(<Card v={v} m={await model(services, v.lang)} error={error} />, {
    status: (err as AppError).status,
  });
}

export const uiSettingsRoutes = (services: Services) =>
  new Elysia({ name: "ui-settings" })
    .use(uiContext(services))
    .get(
      "/settings",
      async ({ view }) =>
        render(
          <SettingsPage
            v={view}
            m={await model(services, view.lang)}
            quotas={await quotaViews(services)}
            notify={await notifyModel(services)}
            prices={await pricesModel(services, view.lang)}
          />,
        ),
      {
        page: "settings:read",
      },
    )
    .post(
      "/settings",
      async ({ body, view, admin }) => {
        const { body: update, values } = timingBody((body ?? {}) as Form);
        return saveAndAnswer(services, view, admin.username, update, values, async (answer) => (
          <TimingForm v={view} m={await model(services, view.lang)} {...answer} />
        ));
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/ingest-password",
      async ({ body, view, admin }) => {
        const form = (body ?? {}) as Form;
        const generate = last(form.generate) === "true";
        const value = last(form.value) ?? "";
        try {
          const res = await updateSettings(
            services,
            { ingest_password: generate ? { generate: true } : { value } },
            admin.username,
          );
          return render(
            <IngestPasswordCard
              v={view}
              m={await model(services, view.lang)}
              newPassword={res.generatedPassword ?? undefined}
            />,
          );
        } catch (err) {
          return refusedCard(IngestPasswordCard, services, view, err);
        }
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/keys/:provider",
      async ({ params, body, view, admin }) => {
        const form = (body ?? {}) as Form;
        const clear = last(form.action) === "clear";
        const apiKey = clear ? "" : (last(form.api_key) ?? "").trim();
        if (!clear && apiKey === "") {
          return render(
            <ProviderKeysCard
              v={view}
              m={await model(services, view.lang)}
              error={view.t.errors.codes.invalid_request}
            />,
            {
              status: 422,
            },
          );
        }
        try {
          await updateSettings(
            services,
            { provider_keys: { [params.provider]: { api_key: apiKey } } },
            admin.username,
          );
          const done = clear ? view.t.settings.keyCleared : view.t.settings.keySaved;
          return render(<ProviderKeysCard v={view} m={await model(services, view.lang)} message={done} />);
        } catch (err) {
          return refusedCard(ProviderKeysCard, services, view, err);
        }
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/notify",
      async ({ body, view, admin }) => {
        const form = (body ?? {}) as Form;
        const clear = last(form.clear);
        // the PUT /api/settings `notify` object: a typed value sets a field, null clears it
        const change: Partial<Record<NotifyFieldName, string | null>> = {};
        const values: Partial<Record<NotifyFieldName, string>> = {};
        const names = Object.keys(NOTIFY_API_FIELDS) as NotifyFieldName[];
        if (clear && names.includes(clear as NotifyFieldName)) change[clear as NotifyFieldName] = null;
        else {
          for (const name of names) {
            const typed = (last(form[name]) ?? "").trim();
            if (typed) change[name] = typed;
            if (typed && name !== "telegram_bot_token") values[name] = typed;
          }
        }
        const m = () => notifyModel(services);
        if (!Object.keys(change).length) {
          const text = view.t.settings.notify.nothing;
          return render(<NotifyCard v={view} m={await m()} message={{ kind: "info", text }} />);
        }
        // the same rules as the API, with the page's words for each field
        const update: NotifyTargetsUpdate = {};
        for (const name of names)
          if (change[name] !== undefined) update[NOTIFY_API_FIELDS[name]] = change[name];
        const invalid = notifyTargetErrors(update, services.config.notify.allowLan);
        const errors: Partial<Record<NotifyFieldName, string>> = {};
        for (const name of names) {
          const kind = invalid[NOTIFY_API_FIELDS[name]];
          if (kind) errors[name] = notifyMessages(view, kind);
        }
        if (Object.keys(errors).length) {
          return render(<NotifyCard v={view} m={await m()} errors={errors} values={values} />, {
            status: 422,
          });
        }
        await updateSettings(services, { notify: change }, admin.username);
        const text = view.t.settings.notify.saved;
        return render(<NotifyCard v={view} m={await m()} message={{ kind: "success", text }} />);
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/notify/test",
      async ({ view, admin }) =>
        render(
          <NotifyCard
            v={view}
            m={await notifyModel(services)}
            results={await sendTestNotice(services, view.t.notify.test, admin.username)}
          />,
        ),
      { page: "settings:write" },
    )
    .post(
      "/settings/prices",
      async ({ body, view, admin }) => {
        const { body: update, values } = pricesBody((body ?? {}) as Form);
        const readOnly = !can(view, "settings:write");
        return saveAndAnswer(services, view, admin.username, update, values, async (answer) => (
          <PricesCard v={view} m={await pricesModel(services, view.lang)} readOnly={readOnly} {...answer} />
        ));
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/limits",
      async ({ body, view, admin }) => {
        const { body: update, values } = limitsBody((body ?? {}) as Form);
        const readOnly = !can(view, "settings:write");
        return saveAndAnswer(services, view, admin.username, update, values, async (answer) => (
          <QuotaLimitsCard v={view} quotas={await quotaViews(services)} readOnly={readOnly} {...answer} />
        ));
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/keys/:provider/check",
      async ({ params, body, view, admin }) => {
        if (!isCheckable(params.provider)) {
          throw new AppError("provider_not_found", `Cannot check "${params.provider}"`);
        }
        const typed = (last(((body ?? {}) as Form).api_key) ?? "").trim();
        const r = await checkProvider(services, params.provider, {
          apiKey: typed || null,
          by: admin.username,
        });
        return render(
          <CheckResult
            v={view}
            r={{
              ok: r.ok,
              code: r.code,
              reason: r.reason,
              model: r.model,
              latencyMs: r.latency_ms,
              imageModels: r.account.image_models,
              balance: r.account.balance,
              rateLimits: r.account.rate_limits,
              quota: r.quota ? { requests: r.quota.requests_today, limit: r.quota.daily_limit } : null,
            }}
          />,
        );
      },
      { page: "settings:write" },
    )
    .post(
      "/settings/purge",
      async ({ view, admin }) => {
        services.purges.start(admin.username);
        await services.purges.inProgress();
        const last = await lastCleanup(services);
        const removed = Number((last?.removed as Record<string, number> | undefined)?.results ?? 0);
        return render(<PurgeCard v={view} m={await model(services, view.lang)} done={removed} />);
      },
      { page: "settings:write" },
    );
