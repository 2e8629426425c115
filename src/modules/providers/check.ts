/**
 * `photochanger provider check` and the Settings page's "Check" button: one minimal real call per
 * provider, before an event, so a wrong key, a model the account cannot use, an exhausted quota
 * or a box Turbotext cannot reach shows up here and not as the first booth's 502.
 *
 * - gemini: list the account's models (proves the key, says which image models it may use), then
 *   one tiny image edit with the chosen model through the real provider code.
 * - openai: retrieve the model (listing the image models when it is unknown), then one tiny edit;
 *   OpenAI's `x-ratelimit-*` headers are reported.
 * - turbotext: one tiny queued job whose photo Turbotext downloads from PUBLIC_BASE_URL — which
 *   proves the box is reachable from the internet — and the balance (`limits`) it reports.
 *
 * Every request counts toward the provider's daily quota like any other.
 */
import { randomUUID } from "node:crypto";
import type { Config } from "../../config";
import { QUOTA_PROVIDERS, type QuotaProvider, type QuotaState } from "../../domain/quota";
import type { Clock } from "../../lib/clock";
import type { Logger } from "../../lib/log";
import type { MediaObjects } from "../../media/objects";
import { testCardPng } from "../../media/test-card";
import type { Metrics } from "../../metrics";
import type { ProviderRegistry } from "../../providers/catalogue";
import { sanitize } from "../../providers/common";
import { GEMINI_MODELS } from "../../providers/gemini";
import { type ProviderContext, ProviderFailure, type ProviderImage } from "../../providers/types";
import type { QuotaService } from "../../quota/service";
import type { SettingsService } from "../../settings/service";
import type { SlotStore } from "../../store/slots";

export const CHECKABLE = QUOTA_PROVIDERS;
export type CheckableProvider = QuotaProvider;
export const DEFAULT_CHECK_TIMEOUT_MS = 60_000;
const LIST_TIMEOUT_MS = 15_000;
export const OPENAI_DEFAULT_MODEL = "gpt-image-1.5";

/** Why a check failed, as a stable code (the plain-words reason travels next to it). */
export type CheckCode =
  | "no_key"
  | "bad_key"
  | "unknown_model"
  | "no_public_url"
  | "unreachable_public_url"
  | "quota_exhausted"
  | "unavailable"
  | "timeout"
  | "failed";

export interface CheckStep {
  name: "models" | "model" | "edit";
  ok: boolean;
  ms: number;
  detail: string;
}

export interface CheckReport {
  provider: CheckableProvider;
  ok: boolean;
  code: CheckCode | null;
  /** Plain words: what went wrong and what to do. */
  reason: string | null;
  model: string | null;
  latency_ms: number;
  steps: CheckStep[];
  /** What the account can use and any balance/rate limits the provider reported. */
  account: {
    image_models?: string[];
    balance?: Record<string, unknown>;
    rate_limits?: Record<string, unknown>;
  };
  quota: {
    requests_today: number;
    daily_limit: number | null;
    exhausted: boolean;
    resets_at: string;
    reset_zone: string;
  } | null;
}

export interface CheckDeps {
  store: { slots: SlotStore };
  config: Config;
  clock: Clock;
  log: Logger;
  providers: ProviderRegistry;
  settings: SettingsService;
  objects: MediaObjects;
  quota: QuotaService;
  metrics: Metrics;
}

export interface CheckOptions {
  apiKey?: string | null;
  model?: string | null;
  timeoutMs?: number;
  /** Who asked (the audit entry when a passing check resumes an exhausted provider). */
  by?: string;
}

export function isCheckable(id: string): id is CheckableProvider {
  return (CHECKABLE as readonly string[]).includes(id);
}

class CheckFailed extends Error {
  constructor(
    readonly code: CheckCode,
    message: string,
  ) {
    super(message);
  }
}

/** Reads what the provider says of a model (listed, usable with this key), as a step of the report. */
type ModelRead = (
  deps: CheckDeps,
  report: CheckReport,
  apiKey: string,
  model: string,
  signal: AbortSignal,
) => Promise<void>;

export async function checkProvider(
  deps: CheckDeps,
  id: CheckableProvider,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const started = performance.now();
  const report: CheckReport = {
    provider: id,
    ok: false,
    code: null,
    reason: null,
    model: null,
    latency_ms: 0,
    steps: [],
    account: {},
    quota: null,
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const deadline = new Date(deps.clock.now().getTime() + timeoutMs);
  const signal = AbortSignal.timeout(timeoutMs);
  const apiKey = options.apiKey?.trim() || (await deps.settings.providerKey(id));
  try {
    if (!apiKey) {
      throw new CheckFailed(
        "no_key",
        `No API key for ${id}: add it in Settings → Provider keys, set ${id.toUpperCase()}_API_KEY, or pass --key`,
      );
    }
    const how = HOW_CHECKED[id];
    let model: string | undefined;
    if (how.models) {
      model = options.model?.trim() || (await modelInUse(deps, id)) || how.models.fallback;
      report.model = model;
      await how.models.read(deps, report, apiKey, model, signal);
    }
    await edit(deps, report, apiKey, how.edit(model ?? ""), deadline, signal);
    report.ok = true;
    // The provider answered as expected: an "exhausted" it said earlier today no longer holds.
    // (Only a check of the key the slots use counts, not one of another key typed for the check.)
    const typed = options.apiKey?.trim();
    if (!typed || typed === (await deps.settings.providerKey(id))) {
      await deps.quota
        .noteSuccess(id, { by: options.by ?? "cli", reason: "check_passed" })
        .catch((err) => deps.log.warn("provider.quota_resume_failed", { error: err }));
    }
  } catch (err) {
    if (err instanceof ProviderFailure && err.quotaExhausted) {
      // The same state a job would switch to: the slots of this provider stop taking uploads.
      await deps.quota.markExhausted(id, err.message).catch(() => {});
    }
    const failed = explain(err, id, report.model);
    report.code = failed.code;
    report.reason = sanitize(failed.message, [apiKey], 600);
  } finally {
    // A provider's error text may quote the key it was given: no step shows it back.
    for (const step of report.steps) step.detail = sanitize(step.detail, [apiKey], 300);
    report.latency_ms = Math.round(performance.now() - started);
    try {
      report.quota = quotaView(await deps.quota.state(id));
    } catch (err) {
      deps.log.warn("provider_check.quota_unreadable", { error: err });
    }
  }
  deps.log.info("provider.checked", {
    provider: id,
    ok: report.ok,
    code: report.code,
    model: report.model,
    latency_ms: report.latency_ms,
  });
  return report;
}

/** Describe the result wanted, not what to avoid (ecosystem.md's prompt lessons). */
const EDIT_PROMPT = "Return this picture as it is: the same colours, the same blue disc in the middle.";

function quotaView(q: QuotaState): CheckReport["quota"] {
  return {
    requests_today: q.requests,
    daily_limit: q.limit,
    exhausted: q.exhausted,
    resets_at: q.resetsAt.toISOString(),
    reset_zone: q.zone,
  };
}

/** The model most slots of this provider use, so the button checks what the event will use. */
async function modelInUse(deps: CheckDeps, provider: string): Promise<string | null> {
  return deps.store.slots.mostUsedModel(provider);
}

async function timed<T>(
  report: CheckReport,
  name: CheckStep["name"],
  fn: () => Promise<{ value: T; detail: string }>,
) {
  const t0 = performance.now();
  try {
    const { value, detail } = await fn();
    report.steps.push({ name, ok: true, ms: Math.round(performance.now() - t0), detail });
    return value;
  } catch (err) {
    report.steps.push({
      name,
      ok: false,
      ms: Math.round(performance.now() - t0),
      detail: err instanceof Error ? err.message.slice(0, 300) : String(err),
    });
    throw err;
  }
}

async function getJson(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  who: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers,
      signal: AbortSignal.any([signal, AbortSignal.timeout(LIST_TIMEOUT_MS)]),
    });
  } catch (err) {
    if ((err as Error).name === "TimeoutError" || (err as Error).name === "AbortError") {
      throw new CheckFailed("timeout", `${who} did not answer within ${LIST_TIMEOUT_MS / 1000} s`);
    }
    throw new CheckFailed("unavailable", `${who} cannot be reached: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    if (res.ok) throw new CheckFailed("failed", `${who} answered something that is not JSON`);
  }
  return { status: res.status, body };
}

function errorText(body: Record<string, unknown>): string {
  const e = body.error as { message?: unknown; status?: unknown; code?: unknown } | undefined;
  return String(e?.message ?? e?.status ?? e?.code ?? "no details");
}

const geminiModels: ModelRead = async (deps, report, apiKey, model, signal) => {
  const { baseUrl, apiVersion } = deps.config.providers.gemini;
  const base = (baseUrl ?? "https://generativelanguage.googleapis.com").replace(/\/+$/, "");
  const models = await timed(report, "models", async () => {
    const { status, body } = await getJson(
      `${base}/${apiVersion}/models?pageSize=1000`,
      { "x-goog-api-key": apiKey },
      signal,
      "Gemini",
    );
    if (status === 400 || status === 401 || status === 403) {
      throw new CheckFailed("bad_key", `Gemini rejected the API key (HTTP ${status}: ${errorText(body)})`);
    }
    if (status === 429) {
      throw new CheckFailed("quota_exhausted", `Gemini says the quota is exhausted (${errorText(body)})`);
    }
    if (status !== 200) {
      throw new CheckFailed(
        "unavailable",
        `Gemini could not list models (HTTP ${status}: ${errorText(body)})`,
      );
    }
    const list =
      (body.models as { name?: string; supportedGenerationMethods?: string[] }[] | undefined) ?? [];
    const image = list
      .filter(
        (m) =>
          /image/i.test(m.name ?? "") &&
          (m.supportedGenerationMethods ?? ["generateContent"]).includes("generateContent"),
      )
      .map((m) => String(m.name).replace(/^models\//, ""));
    return { value: image, detail: `the key works; ${image.length} image model(s) available` };
  });
  report.account.image_models = models;
  await timed(report, "model", async () => {
    const id = model.replace(/^models\//, "");
    if (models.includes(id)) return { value: null, detail: `${model} is available` };
    // Not listed: ask for it by name before calling it unknown (lists can lag behind new ids).
    const one = await getJson(
      `${base}/${apiVersion}/models/${encodeURIComponent(id)}`,
      { "x-goog-api-key": apiKey },
      signal,
      "Gemini",
    );
    if (one.status !== 200) {
      throw new CheckFailed(
        "unknown_model",
        `This Gemini account cannot use the model "${model}"; it can use: ${models.join(", ") || "no image models"}`,
      );
    }
    return { value: null, detail: `${model} is available` };
  });
};

const openaiModel: ModelRead = async (deps, report, apiKey, model, signal) => {
  const base = deps.config.providers.openai.baseUrl.replace(/\/+$/, "");
  const headers = { Authorization: `Bearer ${apiKey}` };
  await timed(report, "model", async () => {
    const { status, body } = await getJson(
      `${base}/v1/models/${encodeURIComponent(model)}`,
      headers,
      signal,
      "OpenAI",
    );
    if (status === 401 || status === 403) {
      throw new CheckFailed("bad_key", `OpenAI rejected the API key (HTTP ${status}: ${errorText(body)})`);
    }
    if (status === 404) {
      const list = await getJson(`${base}/v1/models`, headers, signal, "OpenAI");
      const ids = ((list.body.data as { id?: string }[] | undefined) ?? [])
        .map((m) => String(m.id))
        .filter((m) => /^(gpt-image|dall-e)/.test(m));
      report.account.image_models = ids;
      throw new CheckFailed(
        "unknown_model",
        `This OpenAI account cannot use the model "${model}"; its image models: ${ids.join(", ") || "none"}`,
      );
    }
    if (status === 429) {
      throw new CheckFailed("quota_exhausted", `OpenAI says the quota is exhausted (${errorText(body)})`);
    }
    if (status !== 200) {
      throw new CheckFailed(
        "unavailable",
        `OpenAI could not describe the model (HTTP ${status}: ${errorText(body)})`,
      );
    }
    return { value: null, detail: `the key works; ${model} is available` };
  });
};

/** One tiny image edit through the real provider code, with a deadline and quota counting. */
async function edit(
  deps: CheckDeps,
  report: CheckReport,
  apiKey: string,
  job: { operation: string; settings: Record<string, unknown> },
  deadline: Date,
  signal: AbortSignal,
): Promise<void> {
  const id = report.provider;
  const provider = deps.providers.get(id);
  if (!provider) throw new CheckFailed("failed", `${id} is not part of this build`);
  const checked = deps.providers.validate(id, job.operation, job.settings);
  if (!checked.ok)
    throw new CheckFailed("failed", checked.errors.map((e) => `${e.field}: ${e.message}`).join("; "));
  const photo: ProviderImage = { bytes: testCardPng(), format: "png", mime: "image/png" };
  const jobId = `check-${randomUUID()}`;
  const log = deps.log.child({ provider: id, check: jobId });
  await timed(report, "edit", async () => {
    const ctx: ProviderContext = {
      jobId,
      slotId: "check",
      operation: job.operation,
      settings: checked.settings,
      photo,
      templates: [],
      signal,
      deadline,
      clock: deps.clock,
      log,
      apiKey,
      step: async (event, details) => {
        if (event === "retry") deps.metrics.providerRetry(id, String(details?.reason ?? ""));
      },
      publish: async (image, label) => {
        const base = (await deps.settings.current()).publicBaseUrl;
        if (!base) {
          throw new CheckFailed(
            "no_public_url",
            "PUBLIC_BASE_URL is not set: Turbotext downloads photos from this server, so it needs an address reachable from the internet (Settings → Server's public address)",
          );
        }
        const obj = await deps.objects.create({
          jobId: null,
          kind: `check_${label}`,
          bytes: image.bytes,
          mime: image.mime,
          format: image.format,
          now: deps.clock.now(),
          expiresAt: deadline,
        });
        return `${base.replace(/\/+$/, "")}/public/media/${obj.id}`;
      },
      setProviderRef: async () => {},
      countRequest: () => deps.quota.countRequest(id),
      report: (facts) => {
        if (facts.limits && typeof facts.limits === "object")
          report.account.balance = facts.limits as Record<string, unknown>;
        if (facts.rate_limits && typeof facts.rate_limits === "object") {
          report.account.rate_limits = facts.rate_limits as Record<string, unknown>;
        }
      },
    };
    const t0 = performance.now();
    const out = await provider.run(ctx);
    const meta = await new Bun.Image(out.bytes).metadata().catch(() => null);
    const size = meta ? `${meta.width}×${meta.height} ` : "";
    return {
      value: null,
      detail: `a ${size}${out.format.toUpperCase()} image came back in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    };
  });
}

/** A failure in plain words with its code. */
function explain(
  err: unknown,
  id: CheckableProvider,
  model: string | null,
): { code: CheckCode; message: string } {
  if (err instanceof CheckFailed) return { code: err.code, message: err.message };
  const name = id === "gemini" ? "Gemini" : id === "openai" ? "OpenAI" : "Turbotext";
  if (err instanceof ProviderFailure) {
    const status = Number(err.details.http_status ?? 0);
    if (err.quotaExhausted) return { code: "quota_exhausted", message: err.message };
    if (err.details.error === "url_error" || /url_error/.test(err.message)) {
      return {
        code: "unreachable_public_url",
        message:
          "Turbotext could not download the test photo from this server's public address: the box is not reachable from the internet at PUBLIC_BASE_URL (check that the server is running, the address, port forwarding and firewall)",
      };
    }
    if (status === 401 || status === 403 || /API key|api_key/i.test(err.message)) {
      return { code: "bad_key", message: `${name} rejected the API key: ${err.message}` };
    }
    if (status === 404) {
      return { code: "unknown_model", message: `${name} does not know the model "${model}": ${err.message}` };
    }
    if (err.reason === "timeout") return { code: "timeout", message: err.message };
    if (/unavailable/.test(err.message)) return { code: "unavailable", message: err.message };
    return { code: "failed", message: err.message };
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return { code: "timeout", message: `${name} did not finish the test image in time` };
  }
  return { code: "failed", message: err instanceof Error ? err.message : String(err) };
}

/** The report for a terminal. */
export function formatCheck(r: CheckReport): string {
  const lines = [
    `${r.provider}: ${r.ok ? "OK" : "FAILED"} in ${(r.latency_ms / 1000).toFixed(1)} s${r.model ? ` (model ${r.model})` : ""}`,
  ];
  if (r.reason) lines.push(`  reason:   ${r.reason}`);
  for (const s of r.steps) {
    lines.push(
      `  ${`${s.name}:`.padEnd(9)} ${s.ok ? "ok" : "FAILED"} in ${(s.ms / 1000).toFixed(1)} s — ${s.detail}`,
    );
  }
  if (r.account.image_models) lines.push(`  models:   ${r.account.image_models.join(", ") || "(none)"}`);
  if (r.account.balance) lines.push(`  balance:  ${facts(r.account.balance)}`);
  if (r.account.rate_limits) lines.push(`  limits:   ${facts(r.account.rate_limits)}`);
  if (r.quota) {
    const q = r.quota;
    lines.push(
      `  today:    ${q.requests_today} request(s)${q.daily_limit === null ? " (no daily limit set)" : ` of ${q.daily_limit}`}` +
        `${q.exhausted ? " — EXHAUSTED" : ""}; the quota day ends ${q.resets_at} (midnight ${q.reset_zone})`,
    );
  }
  return lines.join("\n");
}

function facts(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
}

/**
 * How each provider is checked: for the model providers, the model (the one asked for, else the
 * slots' most used, else a default) and what the provider says of it; then one cheap edit.
 */
const HOW_CHECKED: Record<
  CheckableProvider,
  {
    models?: { fallback: string; read: ModelRead };
    edit: (model: string) => { operation: string; settings: Record<string, unknown> };
  }
> = {
  gemini: {
    models: { fallback: GEMINI_MODELS[0], read: geminiModels },
    edit: (model) => ({ operation: "image_edit", settings: { prompt: EDIT_PROMPT, model } }),
  },
  openai: {
    models: { fallback: OPENAI_DEFAULT_MODEL, read: openaiModel },
    edit: (model) => ({
      operation: "image_edit",
      settings: { prompt: EDIT_PROMPT, model, size: "1024x1024", quality: "low" },
    }),
  },
  turbotext: {
    edit: () => ({
      operation: "image2image",
      settings: { prompt: EDIT_PROMPT, strength: 10, original_language: "en", poll_interval_ms: 1000 },
    }),
  },
};
