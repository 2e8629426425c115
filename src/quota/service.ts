/**
 * Provider quotas at run time: every request a provider makes is counted in PostgreSQL (per
 * provider and quota day, across instances), compared with the operator's daily limit, and
 * marked exhausted when the provider itself says so. When a provider's quota is used up, new
 * booth uploads to its slots are refused at once with 429 `provider_quota_exhausted` — the booth
 * prints the original instead of waiting through retries to a 502 — until the quota day ends.
 */

import {
  isQuotaProvider,
  QUOTA_PROVIDERS,
  type QuotaProvider,
  type QuotaState,
  quotaDay,
  quotaState,
} from "../domain/quota";
import type { Clock } from "../lib/clock";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/log";
import type { Metrics } from "../metrics";
import type { SettingsService } from "../settings/service";
import type { ProviderUsageStore } from "../store/provider-usage";

export class QuotaService {
  constructor(
    private readonly usage: ProviderUsageStore,
    private readonly clock: Clock,
    private readonly settings: SettingsService,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Counts one request to the provider (a no-op for providers without a quota, e.g. local). */
  async countRequest(provider: string): Promise<void> {
    if (!isQuotaProvider(provider)) return;
    const now = this.clock.now();
    this.metrics.providerRequest(provider);
    const n = await this.usage.countRequest(provider, quotaDay(provider, now), now);
    const limit = (await this.settings.current()).providerDailyLimit[provider];
    if (limit !== null && n === limit) {
      this.log.warn("provider.quota_reached", { provider, requests: n, limit });
    }
  }

  /** The provider answered "quota exhausted": refuse its uploads until the quota day ends. */
  async markExhausted(provider: string, message: string): Promise<void> {
    if (!isQuotaProvider(provider)) return;
    const now = this.clock.now();
    await this.usage.markExhausted(provider, quotaDay(provider, now), now, message.slice(0, 300));
    this.log.warn("provider.quota_exhausted", { provider, message: message.slice(0, 300) });
  }

  /**
   * The provider answered as expected (a job succeeded on it, a check passed): an "exhausted" its
   * own answer set earlier today was wrong or is over (a misread 429, a billing upgrade), so its
   * slots take uploads again. Audited when it changed anything; `by` names who saw the success.
   */
  async noteSuccess(
    provider: string,
    how: { by: string; reason: "job_succeeded" | "check_passed"; jobId?: string },
  ): Promise<boolean> {
    if (!isQuotaProvider(provider)) return false;
    const now = this.clock.now();
    if (!(await this.usage.clearExhausted(provider, quotaDay(provider, now), now))) return false;
    this.log.info("provider.quota_resumed", { provider, reason: how.reason, job_id: how.jobId });
    await this.settings.audit(how.by, "provider.resumed", {
      provider,
      reason: how.reason,
      ...(how.jobId ? { job_id: how.jobId } : {}),
    });
    return true;
  }

  /**
   * An operator says the provider works again: its "exhausted" flag for today is cleared at once
   * (a daily limit of our own that is used up stays: raise the limit for that). Returns the state.
   */
  async resume(provider: QuotaProvider, by: string): Promise<QuotaState> {
    const now = this.clock.now();
    if (await this.usage.clearExhausted(provider, quotaDay(provider, now), now)) {
      this.log.info("provider.quota_resumed", { provider, reason: "operator", by });
      await this.settings.audit(by, "provider.resumed", { provider, reason: "operator" });
    }
    return this.state(provider);
  }

  async state(provider: QuotaProvider): Promise<QuotaState> {
    return (await this.states([provider]))[0]!;
  }

  async states(providers: readonly QuotaProvider[] = QUOTA_PROVIDERS): Promise<QuotaState[]> {
    const now = this.clock.now();
    const limits = (await this.settings.current()).providerDailyLimit;
    const keys = providers.map((p) => ({ provider: p, day: quotaDay(p, now) }));
    const rows = await this.usage.usage(keys);
    return keys.map((k) => {
      const row = rows.find((r) => r.provider === k.provider && r.day === k.day) ?? null;
      return quotaState(k.provider as QuotaProvider, now, row, limits[k.provider as QuotaProvider] ?? null);
    });
  }

  /** 429 provider_quota_exhausted when the provider's quota for today is used up. */
  async refuseIfExhausted(provider: string): Promise<void> {
    if (!isQuotaProvider(provider)) return;
    const s = await this.state(provider);
    if (!s.exhausted) return;
    const retryAfter = Math.max(1, Math.ceil((s.resetsAt.getTime() - this.clock.now().getTime()) / 1000));
    throw new AppError(
      "provider_quota_exhausted",
      s.exhaustedByProvider
        ? `${provider}'s quota for today is exhausted (the provider said so); it resets at ${s.resetsAt.toISOString()}`
        : `${provider}'s daily request limit (${s.limit}) is used up; it resets at ${s.resetsAt.toISOString()}`,
      {
        provider,
        requests: s.requests,
        daily_limit: s.limit,
        exhausted_by_provider: s.exhaustedByProvider,
        resets_at: s.resetsAt.toISOString(),
      },
      { "Retry-After": String(retryAfter) },
    );
  }
}
