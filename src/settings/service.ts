/**
 * Runtime settings stored in `app_settings`: read through a short cache, written with who/when, so
 * a change takes effect without restart (T_sync applies to jobs created after it). Every write
 * is announced by NOTIFY (the store does it), and every instance listening drops its cache at once,
 * and all of it when its listener reconnects (a change may have been announced meanwhile). While
 * it listens a read is kept for a minute at most; without a listener, for a second.
 */

import { createHmac, randomBytes } from "node:crypto";
import type { Config } from "../config";
import { DEFAULT_CURRENCY, type ProviderPrices } from "../domain/cost";
import { FALLBACK_MIN_SECONDS_DEFAULT } from "../domain/fallback";
import type { QuotaProvider } from "../domain/quota";
import type { Clock } from "../lib/clock";
import { AppError } from "../lib/errors";
import { isDatabaseUnavailable } from "../lib/http";
import type { Logger } from "../lib/log";
import { urlHostProblem } from "../lib/outbound";
import { constantTimeEqual, decryptSecret, encryptSecret, masterKeyFingerprint } from "../lib/secrets";
import { hasControlCharacters } from "../lib/text";
import type { ProviderId } from "../providers/types";
import type { AuditStore } from "../store/audit";
import type { SettingsStore } from "../store/settings";

export interface RuntimeSettings {
  syncResponseSeconds: number;
  resultRetentionHours: number;
  maxInFlightJobs: number;
  providerConcurrency: Record<ProviderId, number>;
  /** Requests per quota day each network provider may take (null: unlimited). */
  providerDailyLimit: Record<QuotaProvider, number | null>;
  publicBaseUrl: string | null;
  /** The time a slot's fallback provider is kept: the primary gets the deadline minus this. */
  fallbackMinSeconds: number;
  /** Money per billed request (an answer with an image) per provider; null: not set. */
  providerPrice: ProviderPrices;
  /** The currency of the prices (ISO 4217 code). */
  currency: string;
}

export const SETTING_DEFAULTS: RuntimeSettings = {
  syncResponseSeconds: 48,
  resultRetentionHours: 72,
  maxInFlightJobs: 16,
  providerConcurrency: { gemini: 4, turbotext: 4, openai: 4, local: 8 },
  providerDailyLimit: { gemini: null, turbotext: null, openai: null },
  publicBaseUrl: null,
  fallbackMinSeconds: FALLBACK_MIN_SECONDS_DEFAULT,
  providerPrice: { gemini: null, turbotext: null, openai: null },
  currency: DEFAULT_CURRENCY,
};

/**
 * What a new install starts with beyond the defaults above: Gemini's 2,000 requests a day (the
 * brief's figure), so the 80 % warning means something from the first event. Written once, on
 * the first start; an install that existed before keeps what it has — a removed limit included.
 */
export const FIRST_START_DAILY_LIMIT: Partial<Record<QuotaProvider, number>> = { gemini: 2000 };

/** Storage keys (snake_case, as in the API). */
export const KEYS = {
  syncResponseSeconds: "sync_response_seconds",
  resultRetentionHours: "result_retention_hours",
  maxInFlightJobs: "max_in_flight_jobs",
  providerConcurrency: "provider_concurrency",
  providerDailyLimit: "provider_daily_limit",
  publicBaseUrl: "public_base_url",
  fallbackMinSeconds: "fallback_min_seconds",
  providerPrice: "provider_price",
  currency: "currency",
  ingestPassword: "ingest_password",
  providerKey: (id: string) => `provider_key.${id}`,
  notifyWebhookUrl: "notify_webhook_url",
  notifyTelegramBotToken: "notify_telegram_bot_token",
  notifyTelegramChatId: "notify_telegram_chat_id",
  masterKeyFingerprint: "master_key_fingerprint",
} as const;

export interface SecretMeta {
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** Where the notifier sends: the operator's settings field by field, else the environment (NOTIFY_*). */
export interface NotifyTargets {
  webhookUrl: string | null;
  /** This box and the LAN may be called (NOTIFY_ALLOW_LAN, or a webhook set in the environment). */
  webhookAllowsLan: boolean;
  telegram: { botToken: string | null; chatId: string | null; apiBase: string };
}

/** What the settings page shows of one notification field: never a secret in full. */
export interface NotifyFieldStatus {
  source: "settings" | "environment" | null;
  /** The value as it may be shown: the chat id in full, a URL's origin, a token's last 4 characters. */
  shown: string | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** A change of the notification targets: a value sets it, null clears it (the environment applies again). */
export interface NotifyTargetsUpdate {
  webhookUrl?: string | null;
  telegramBotToken?: string | null;
  telegramChatId?: string | null;
}

export type NotifyFieldProblem = "url" | "internal" | "lan" | "token" | "chat";

/**
 * Which fields of a change are malformed: a webhook is an http(s) URL to a host the server may call
 * (see lib/outbound.ts: never link-local or metadata, this box and the LAN only with `allowLan`), a
 * token `digits:letters`, a chat a number or @name.
 */
export function notifyTargetErrors(
  update: NotifyTargetsUpdate,
  allowLan: boolean,
): Partial<Record<keyof NotifyTargetsUpdate, NotifyFieldProblem>> {
  const errors: Partial<Record<keyof NotifyTargetsUpdate, NotifyFieldProblem>> = {};
  const { webhookUrl: url, telegramBotToken: token, telegramChatId: chat } = update;
  if (url) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname && url.length <= 2048;
    } catch {}
    if (!ok || /\s/.test(url) || hasControlCharacters(url)) errors.webhookUrl = "url";
    else {
      const problem = urlHostProblem(new URL(url), allowLan);
      if (problem) errors.webhookUrl = problem;
    }
  }
  if (token && !/^\d{1,20}:[A-Za-z0-9_-]{8,200}$/.test(token)) errors.telegramBotToken = "token";
  if (chat && !/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,64})$/.test(chat)) errors.telegramChatId = "chat";
  return errors;
}

const NOTIFY_FIELDS = {
  webhookUrl: { key: KEYS.notifyWebhookUrl, secret: true },
  telegramBotToken: { key: KEYS.notifyTelegramBotToken, secret: true },
  telegramChatId: { key: KEYS.notifyTelegramChatId, secret: false },
} as const;
type NotifyField = keyof typeof NOTIFY_FIELDS;

function shownValue(field: NotifyField, value: string): string {
  if (field === "telegramChatId") return value;
  if (field === "webhookUrl") {
    try {
      return `${new URL(value).origin}/…`;
    } catch {
      return "…";
    }
  }
  return `…${value.slice(-4)}`;
}

const CACHE_MS = 1000;
/** How long a read is kept while changes are announced to this process (the last line of defence). */
const ANNOUNCED_CACHE_MS = 60_000;
const ENV_KEY: Record<ProviderId, keyof Config["providers"] | null> = {
  gemini: "gemini",
  turbotext: "turbotext",
  openai: "openai",
  local: null,
};

export class SettingsService {
  /** The last read of every setting: the runtime values, and the ingest password's hash. */
  private cache: { at: number; value: RuntimeSettings; ingestHash: string | null } | null = null;
  private generation = 0;
  // Fast path for the ingest password: after one argon2id verify, an HMAC under a per-process key
  // is compared in constant time, so every booth upload doesn't pay ~60 ms of argon2.
  private readonly hmacKey = randomBytes(32);
  private verified: { hash: string; mac: Buffer } | null = null;
  /** Verifications in progress, by hash and keyed MAC of the password (never the password). */
  private readonly verifying = new Map<string, Promise<boolean>>();

  constructor(
    private readonly store: { settings: SettingsStore; audit: AuditStore },
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly masterKey: Buffer,
    /** How long a read is reused while no listener is up (see `announced`). */
    private readonly cacheMs = CACHE_MS,
  ) {}

  /** Whether changes are announced to this process now (its LISTEN connection is up). */
  private announcedChanges = false;

  /** The settings listener came up (true) or went away (false); see the header. */
  announced(on: boolean): void {
    this.announcedChanges = on;
  }

  /**
   * Whether this process holds the master key the database's secrets were sealed with. The first
   * process to ask records a fingerprint of its key (an HMAC of a fixed text: it reveals nothing of
   * the key); every later one compares. Instances sharing a database must share the key file.
   */
  async masterKeyMatches(): Promise<boolean> {
    const fingerprint = masterKeyFingerprint(this.masterKey);
    const row = await this.store.settings.get(KEYS.masterKeyFingerprint);
    if (!row) {
      await this.store.settings.put(
        KEYS.masterKeyFingerprint,
        fingerprint,
        "first-start",
        false,
        this.clock.now(),
      );
      return true;
    }
    return row.value === fingerprint;
  }

  /** Key material for derived secrets (the JWT signing key); never exposed over HTTP. */
  masterKeyForDerivation(): Buffer {
    return this.masterKey;
  }

  async current(): Promise<RuntimeSettings> {
    return (await this.read()).value;
  }

  /** The settings through the cache (see the header): one read of all rows serves every caller. */
  private async read(): Promise<NonNullable<SettingsService["cache"]>> {
    const now = Date.now();
    const life = this.announcedChanges ? Math.max(this.cacheMs, ANNOUNCED_CACHE_MS) : this.cacheMs;
    if (this.cache && now - this.cache.at < life) return this.cache;
    const generation = this.generation;
    let rows: Awaited<ReturnType<typeof this.store.settings.all>>;
    try {
      rows = await this.store.settings.all();
    } catch (err) {
      // A database blip must not fail work that only needs the settings: the last values read
      // stay good until the database answers again (writes go through the database anyway).
      if (this.cache && isDatabaseUnavailable(err)) return this.cache;
      throw err;
    }
    const byKey = new Map(rows.map((r) => [r.key, r.value]));
    const num = (k: string, d: number) => (typeof byKey.get(k) === "number" ? (byKey.get(k) as number) : d);
    const value: RuntimeSettings = {
      syncResponseSeconds: num(KEYS.syncResponseSeconds, SETTING_DEFAULTS.syncResponseSeconds),
      resultRetentionHours: num(KEYS.resultRetentionHours, SETTING_DEFAULTS.resultRetentionHours),
      maxInFlightJobs: num(KEYS.maxInFlightJobs, SETTING_DEFAULTS.maxInFlightJobs),
      providerConcurrency: {
        ...SETTING_DEFAULTS.providerConcurrency,
        ...((byKey.get(KEYS.providerConcurrency) as Record<ProviderId, number> | undefined) ?? {}),
      },
      providerDailyLimit: {
        ...SETTING_DEFAULTS.providerDailyLimit,
        ...((byKey.get(KEYS.providerDailyLimit) as Record<QuotaProvider, number | null> | undefined) ?? {}),
      },
      publicBaseUrl:
        (byKey.get(KEYS.publicBaseUrl) as string | null | undefined) ?? this.config.publicBaseUrl,
      fallbackMinSeconds: num(KEYS.fallbackMinSeconds, SETTING_DEFAULTS.fallbackMinSeconds),
      providerPrice: {
        ...SETTING_DEFAULTS.providerPrice,
        ...((byKey.get(KEYS.providerPrice) as ProviderPrices | undefined) ?? {}),
      },
      currency:
        typeof byKey.get(KEYS.currency) === "string"
          ? (byKey.get(KEYS.currency) as string)
          : SETTING_DEFAULTS.currency,
    };
    const ingestHash = (byKey.get(KEYS.ingestPassword) as { hash?: string } | undefined)?.hash ?? null;
    const read = { at: now, value, ingestHash };
    // A read that overlapped a write may hold the old values: don't let it refill the cache.
    if (generation === this.generation) this.cache = read;
    return read;
  }

  invalidate(): void {
    this.cache = null;
    this.generation++;
  }

  async set(key: string, value: unknown, by: string, isSecret = false): Promise<void> {
    await this.store.settings.put(key, value, by, isSecret, this.clock.now());
    this.invalidate();
  }

  /** Deletes a stored setting (its default or environment value applies again); true if there was one. */
  async remove(key: string): Promise<boolean> {
    const removed = await this.store.settings.remove(key);
    this.invalidate();
    return removed;
  }

  async meta(key: string): Promise<SecretMeta & { exists: boolean }> {
    const row = await this.store.settings.get(key);
    return { exists: !!row, updatedAt: row?.updatedAt ?? null, updatedBy: row?.updatedBy ?? null };
  }

  async audit(actor: string, action: string, details: Record<string, unknown> = {}): Promise<void> {
    await this.store.audit.append(actor, action, details, this.clock.now());
  }

  // ---- ingest password (argon2id hash only) ----

  async setIngestPassword(password: string, by: string): Promise<void> {
    const hash = await Bun.password.hash(password, { algorithm: "argon2id" });
    await this.set(KEYS.ingestPassword, { hash }, by, true);
    this.verified = null;
    await this.audit(by, "ingest_password.rotated");
  }

  /** The first start's settings (see FIRST_START_DAILY_LIMIT), unless the setting exists already. */
  async applyFirstStartDefaults(): Promise<void> {
    if (await this.store.settings.get(KEYS.providerDailyLimit)) return;
    await this.set(
      KEYS.providerDailyLimit,
      { ...SETTING_DEFAULTS.providerDailyLimit, ...FIRST_START_DAILY_LIMIT },
      "first-start",
    );
  }

  async hasIngestPassword(): Promise<boolean> {
    return (await this.ingestPasswordHash()) !== null;
  }

  /**
   * True when `password` is the one this process verified last and the stored hash is unchanged
   * (a keyed digest, compared in constant time): no argon2, so a booth's uploads do not spend a
   * throttle attempt each. Rotation changes the hash, which ends the shortcut at once.
   */
  async isRecentlyVerifiedIngestPassword(password: string): Promise<boolean> {
    if (!this.verified) return false;
    const hash = await this.ingestPasswordHash(true);
    if (!hash || this.verified.hash !== hash) return false;
    return constantTimeEqual(createHmac("sha256", this.hmacKey).update(password).digest(), this.verified.mac);
  }

  async verifyIngestPassword(password: string): Promise<boolean> {
    const hash = await this.ingestPasswordHash();
    if (!hash) return false;
    const mac = createHmac("sha256", this.hmacKey).update(password).digest();
    if (this.verified?.hash === hash) {
      if (constantTimeEqual(mac, this.verified.mac)) return true;
    }
    // A burst of booths (every booth after a restart or a rotation) presents the same password at
    // once: one argon2id verification answers them all instead of one each.
    const key = `${hash}\n${mac.toString("hex")}`;
    let verifying = this.verifying.get(key);
    if (!verifying) {
      verifying = Bun.password.verify(password, hash).finally(() => this.verifying.delete(key));
      this.verifying.set(key, verifying);
    }
    const ok = await verifying;
    if (ok) this.verified = { hash, mac };
    return ok;
  }

  /**
   * `cached`: through the settings cache (a rotation here or a NOTIFY from elsewhere drops it at
   * once) — for the fast path, which runs on every upload. Otherwise read now: an argon2 check
   * costs far more than the read, and must see a rotation made a moment ago by the CLI.
   */
  private async ingestPasswordHash(cached = false): Promise<string | null> {
    if (cached) return (await this.read()).ingestHash;
    const row = await this.store.settings.get(KEYS.ingestPassword);
    return (row?.value as { hash?: string } | undefined)?.hash ?? null;
  }

  // ---- provider keys (AES-256-GCM; never returned, never logged) ----

  async setProviderKey(id: ProviderId, apiKey: string | null, by: string): Promise<void> {
    const key = KEYS.providerKey(id);
    if (!apiKey) {
      await this.store.settings.remove(key);
      await this.audit(by, "provider_key.cleared", { provider: id });
    } else {
      await this.set(key, { sealed: encryptSecret(this.masterKey, apiKey, key) }, by, true);
      await this.audit(by, "provider_key.replaced", { provider: id });
    }
    this.invalidate();
  }

  /** The key from settings if one is stored, else from the environment, else null. */
  async providerKey(id: ProviderId): Promise<string | null> {
    const key = KEYS.providerKey(id);
    const row = await this.store.settings.get(key);
    const sealed = (row?.value as { sealed?: string } | undefined)?.sealed;
    if (sealed) return decryptSecret(this.masterKey, sealed, key);
    const envName = ENV_KEY[id];
    return envName ? this.config.providers[envName].apiKey : null;
  }

  async providerKeyStatus(
    id: ProviderId,
  ): Promise<{ configured: boolean; source: "settings" | "environment" | null } & SecretMeta> {
    const m = await this.meta(KEYS.providerKey(id));
    if (m.exists)
      return { configured: true, source: "settings", updatedAt: m.updatedAt, updatedBy: m.updatedBy };
    const envName = ENV_KEY[id];
    const fromEnv = envName ? !!this.config.providers[envName].apiKey : false;
    return { configured: fromEnv, source: fromEnv ? "environment" : null, updatedAt: null, updatedBy: null };
  }

  // ---- notification targets (the webhook URL and the bot token sealed like provider keys) ----

  private async notifyField(field: NotifyField): Promise<{ value: string; meta: SecretMeta } | null> {
    const { key, secret } = NOTIFY_FIELDS[field];
    const row = await this.store.settings.get(key);
    const stored = row?.value as { sealed?: string; value?: string } | undefined;
    const value = secret
      ? stored?.sealed
        ? decryptSecret(this.masterKey, stored.sealed, key)
        : null
      : (stored?.value ?? null);
    return value === null ? null : { value, meta: { updatedAt: row!.updatedAt, updatedBy: row!.updatedBy } };
  }

  private envNotify(field: NotifyField): string | null {
    const n = this.config.notify;
    if (field === "webhookUrl") return n.webhookUrl;
    return field === "telegramBotToken" ? n.telegram.botToken : n.telegram.chatId;
  }

  /** Where notifications go now: each field from the settings when stored there, else from the environment. */
  async notifyTargets(): Promise<NotifyTargets> {
    const value = async (f: NotifyField) => (await this.notifyField(f))?.value ?? this.envNotify(f);
    const [webhookUrl, botToken, chatId] = await Promise.all([
      value("webhookUrl"),
      value("telegramBotToken"),
      value("telegramChatId"),
    ]);
    // A webhook set in the environment is the operator's own choice on the box: any target goes.
    const webhookAllowsLan =
      this.config.notify.allowLan || (!!webhookUrl && webhookUrl === this.config.notify.webhookUrl);
    return {
      webhookUrl,
      webhookAllowsLan,
      telegram: { botToken, chatId, apiBase: this.config.notify.telegram.apiBase },
    };
  }

  async notifyStatus(): Promise<Record<NotifyField, NotifyFieldStatus>> {
    const out = {} as Record<NotifyField, NotifyFieldStatus>;
    for (const f of Object.keys(NOTIFY_FIELDS) as NotifyField[]) {
      const stored = await this.notifyField(f);
      const env = this.envNotify(f);
      out[f] = stored
        ? { source: "settings", shown: shownValue(f, stored.value), ...stored.meta }
        : {
            source: env ? "environment" : null,
            shown: env ? shownValue(f, env) : null,
            updatedAt: null,
            updatedBy: null,
          };
    }
    return out;
  }

  /** Stores (or with null clears) the fields given; one audit entry naming them, never their values. */
  async setNotifyTargets(update: NotifyTargetsUpdate, by: string): Promise<void> {
    const invalid = notifyTargetErrors(update, this.config.notify.allowLan);
    if (Object.keys(invalid).length) {
      throw new AppError("invalid_request", "The notification targets are not valid", {
        fields: Object.entries(invalid).map(([field, kind]) => ({
          field,
          message: `Expected a valid ${kind}`,
        })),
      });
    }
    const changed: string[] = [];
    for (const f of Object.keys(NOTIFY_FIELDS) as NotifyField[]) {
      const value = update[f];
      if (value === undefined) continue;
      const { key, secret } = NOTIFY_FIELDS[f];
      if (value === null || value === "") {
        if (!(await this.store.settings.remove(key))) continue;
      } else {
        const stored = secret ? { sealed: encryptSecret(this.masterKey, value, key) } : { value };
        await this.store.settings.put(key, stored, by, secret, this.clock.now());
      }
      changed.push(key);
    }
    this.invalidate();
    if (changed.length) await this.audit(by, "notify.updated", { fields: changed });
  }
}

/** Drops the settings cache whenever any instance announces a change (and after a reconnect). */
export async function listenForSettings(
  settingsStore: Pick<SettingsStore, "listen">,
  settings: Pick<SettingsService, "invalidate"> & Partial<Pick<SettingsService, "announced">>,
  log: Logger,
): Promise<{ unlisten(): Promise<void> }> {
  const sub = await settingsStore.listen({
    onChanged: () => settings.invalidate(),
    onConnected: () => {
      // A change may have been announced while the listener was away.
      settings.invalidate();
      log.debug("settings.listen.connected");
    },
  });
  settings.announced?.(true);
  return {
    unlisten: async () => {
      settings.announced?.(false);
      await sub.unlisten();
    },
  };
}
