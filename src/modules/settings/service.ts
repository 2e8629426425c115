/**
 * The settings an admin reads and changes over the API: timings, caps, the public base URL, the
 * booth's ingest password, the provider keys and the notification targets. Secrets only ever travel
 * inward: GET shows
 * whether they are set, by whom and when — never the value (except a generated ingest password,
 * returned once by the PUT that generated it). Every change lands in the audit log.
 */
import { generatePassword } from "../../lib/secrets";
import { hasControlCharacters } from "../../lib/text";
import { validate, validationFailed } from "../../lib/validation";
import type { ProviderId } from "../../providers/types";
import type { Services } from "../../services";
import { KEYS, type NotifyTargetsUpdate, notifyTargetErrors } from "../../settings/service";
import { KEYED_PROVIDERS, RANGES, SettingsUpdate } from "./model";

const GENERATED_PASSWORD_LENGTH = 12;

export async function getSettings(services: Pick<Services, "settings">) {
  const s = await services.settings.current();
  const pw = await services.settings.meta(KEYS.ingestPassword);
  const keys: Record<
    string,
    { configured: boolean; source: string | null; updated_at: string | null; updated_by: string | null }
  > = {};
  for (const id of KEYED_PROVIDERS) {
    const k = await services.settings.providerKeyStatus(id);
    keys[id] = {
      configured: k.configured,
      source: k.source,
      updated_at: k.updatedAt?.toISOString() ?? null,
      updated_by: k.updatedBy,
    };
  }
  return {
    sync_response_seconds: s.syncResponseSeconds,
    result_retention_hours: s.resultRetentionHours,
    max_in_flight_jobs: s.maxInFlightJobs,
    fallback_min_seconds: s.fallbackMinSeconds,
    provider_concurrency: { ...s.providerConcurrency } as Record<string, number>,
    provider_daily_limit: { ...s.providerDailyLimit } as Record<string, number | null>,
    provider_price: { ...s.providerPrice } as Record<string, number | null>,
    currency: s.currency,
    public_base_url: s.publicBaseUrl,
    ingest_password: {
      is_set: pw.exists,
      updated_at: pw.updatedAt?.toISOString() ?? null,
      updated_by: pw.updatedBy,
    } as { is_set: boolean; updated_at: string | null; updated_by: string | null; value?: string },
    provider_keys: keys,
    notify: await notifyView(services),
    ranges: RANGES,
  };
}

/** The notification fields as the API and the settings page show them (never a secret in full). */
export async function notifyView(services: Pick<Services, "settings">) {
  const s = await services.settings.notifyStatus();
  const one = (f: (typeof s)[keyof typeof s]) => ({
    source: f.source,
    shown: f.shown,
    updated_at: f.updatedAt?.toISOString() ?? null,
    updated_by: f.updatedBy,
  });
  return {
    webhook_url: one(s.webhookUrl),
    telegram_bot_token: one(s.telegramBotToken),
    telegram_chat_id: one(s.telegramChatId),
  };
}

/** The API's snake_case notification fields ↔ the settings service's. */
export const NOTIFY_API_FIELDS = {
  webhook_url: "webhookUrl",
  telegram_bot_token: "telegramBotToken",
  telegram_chat_id: "telegramChatId",
} as const satisfies Record<string, keyof NotifyTargetsUpdate>;

function notifyUpdate(input: SettingsUpdate): NotifyTargetsUpdate | null {
  if (!input.notify) return null;
  const update: NotifyTargetsUpdate = {};
  for (const [api, field] of Object.entries(NOTIFY_API_FIELDS)) {
    const value = input.notify[api as keyof typeof NOTIFY_API_FIELDS];
    if (value !== undefined) update[field] = value === null || value.trim() === "" ? null : value.trim();
  }
  return update;
}
export type SettingsView = Awaited<ReturnType<typeof getSettings>>;

/**
 * Provider keys travel in `Authorization` headers and the public base URL in links handed to
 * providers; a control character in either is refused before anything is stored.
 */
function refuseControlCharacters(input: SettingsUpdate, allowLan: boolean): void {
  const errors: { field: string; message: string }[] = [];
  for (const [id, entry] of Object.entries(input.provider_keys ?? {})) {
    if (entry && hasControlCharacters(entry.api_key.trim())) {
      errors.push({ field: `provider_keys.${id}.api_key`, message: "Control characters are not allowed" });
    }
  }
  if (typeof input.public_base_url === "string" && hasControlCharacters(input.public_base_url)) {
    errors.push({ field: "public_base_url", message: "Control characters are not allowed" });
  }
  if (input.ingest_password?.value !== undefined && hasControlCharacters(input.ingest_password.value)) {
    errors.push({ field: "ingest_password.value", message: "Control characters are not allowed" });
  }
  const notify = notifyUpdate(input);
  const invalid = notify ? notifyTargetErrors(notify, allowLan) : {};
  const expected = {
    url: "Expected an http(s) URL",
    internal: "Link-local and cloud-metadata addresses are never called",
    lan: "An address on this box or the local network: allowed only with NOTIFY_ALLOW_LAN=true",
    token: "Expected a bot token such as 123456:ABC…",
    chat: "Expected a chat id (a number) or @name",
  };
  for (const [api, field] of Object.entries(NOTIFY_API_FIELDS)) {
    const kind = invalid[field];
    if (kind) errors.push({ field: `notify.${api}`, message: expected[kind] });
  }
  if (errors.length) throw validationFailed(errors);
}

/** An http(s) URL without credentials, query or fragment, normalised without a trailing slash. */
export function normalizePublicBaseUrl(value: string | null): string | null {
  if (value === null || value.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw validationFailed([{ field: "public_base_url", message: "Expected an http(s) URL or null" }]);
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw validationFailed([
      {
        field: "public_base_url",
        message: "Expected an http(s) URL such as https://photos.example.com (no credentials or query)",
      },
    ]);
  }
  return url.toString().replace(/\/+$/, "");
}

/**
 * Validates the whole body first (422 naming every bad field, nothing written), then applies it.
 * A new ingest password works — and the old one stops working — as soon as this returns.
 */
export async function updateSettings(
  services: Pick<Services, "settings" | "log" | "config">,
  body: unknown,
  by: string,
): Promise<{ settings: SettingsView; generatedPassword: string | null }> {
  const input = validate(SettingsUpdate, body);
  const pw = input.ingest_password;
  if (pw && (pw.value === undefined) === (pw.generate === undefined)) {
    throw validationFailed([
      { field: "ingest_password", message: 'Send either {"value": "…"} or {"generate": true}' },
    ]);
  }
  refuseControlCharacters(input, services.config.notify.allowLan);
  const publicBaseUrl =
    input.public_base_url === undefined ? undefined : normalizePublicBaseUrl(input.public_base_url);

  const before = await services.settings.current();
  // The primary needs some of the deadline: the fallback's share stays below the whole of it.
  const sync = input.sync_response_seconds ?? before.syncResponseSeconds;
  const fallbackMin = input.fallback_min_seconds ?? before.fallbackMinSeconds;
  if (
    fallbackMin >= sync &&
    (input.fallback_min_seconds !== undefined || input.sync_response_seconds !== undefined)
  ) {
    const field = input.fallback_min_seconds !== undefined ? "fallback_min_seconds" : "sync_response_seconds";
    throw validationFailed([
      {
        field,
        message: `fallback_min_seconds (${fallbackMin}) must be below sync_response_seconds (${sync}): the primary provider needs part of the deadline`,
      },
    ]);
  }
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  const put = async (key: string, from: unknown, to: unknown) => {
    if (to === undefined || JSON.stringify(from) === JSON.stringify(to)) return;
    await services.settings.set(key, to, by);
    changed[key] = { from, to };
  };
  await put(KEYS.syncResponseSeconds, before.syncResponseSeconds, input.sync_response_seconds);
  await put(KEYS.resultRetentionHours, before.resultRetentionHours, input.result_retention_hours);
  await put(KEYS.maxInFlightJobs, before.maxInFlightJobs, input.max_in_flight_jobs);
  await put(KEYS.fallbackMinSeconds, before.fallbackMinSeconds, input.fallback_min_seconds);
  if (input.provider_concurrency) {
    await put(KEYS.providerConcurrency, before.providerConcurrency, {
      ...before.providerConcurrency,
      ...input.provider_concurrency,
    });
  }
  if (input.provider_daily_limit) {
    await put(KEYS.providerDailyLimit, before.providerDailyLimit, {
      ...before.providerDailyLimit,
      ...input.provider_daily_limit,
    });
  }
  if (input.provider_price) {
    await put(KEYS.providerPrice, before.providerPrice, {
      ...before.providerPrice,
      ...input.provider_price,
    });
  }
  await put(KEYS.currency, before.currency, input.currency);
  if (publicBaseUrl === null) {
    // Cleared: the stored value goes, PUBLIC_BASE_URL from the environment (if any) applies again.
    if (await services.settings.remove(KEYS.publicBaseUrl))
      changed[KEYS.publicBaseUrl] = { from: before.publicBaseUrl, to: null };
  } else {
    await put(KEYS.publicBaseUrl, before.publicBaseUrl, publicBaseUrl);
  }
  if (Object.keys(changed).length) {
    await services.settings.audit(by, "settings.updated", { changed });
    services.log.info("admin.settings_updated", { by, changed: Object.keys(changed) });
  }

  let generatedPassword: string | null = null;
  if (pw) {
    const value = pw.value ?? generatePassword(GENERATED_PASSWORD_LENGTH);
    if (pw.generate) generatedPassword = value;
    await services.settings.setIngestPassword(value, by);
    services.log.info("admin.ingest_password_rotated", { by, generated: !!pw.generate });
  }

  const notify = notifyUpdate(input);
  if (notify) await services.settings.setNotifyTargets(notify, by);

  for (const [id, entry] of Object.entries(input.provider_keys ?? {})) {
    if (!entry) continue;
    const apiKey = entry.api_key.trim();
    await services.settings.setProviderKey(id as ProviderId, apiKey === "" ? null : apiKey, by);
    services.log.info("admin.provider_key_changed", { by, provider: id, cleared: apiKey === "" });
  }

  services.settings.invalidate();
  const settings = await getSettings(services);
  if (generatedPassword) settings.ingest_password.value = generatedPassword;
  return { settings, generatedPassword };
}
