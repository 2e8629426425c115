/**
 * What the providers cost (SPEC §11): billed requests × the operator's price per request
 * (`provider_price`, in the `currency` setting).
 *
 * Which requests count — the rule the statistics follow: **a provider answer that carried an
 * image**, whatever became of it (served to the booth, a test run's, a re-run's, a result that
 * arrived after the deadline and was discarded, one that could not be stored). That is what the
 * image providers bill: Gemini and OpenAI charge for the image they generate, and an answer
 * without one — an HTTP error, a 429/5xx that is retried, Gemini's NO_IMAGE, a safety refusal — is
 * not billed per image (at most a few input tokens, far below a price per image). The per-day
 * request counter (src/store/provider-usage.ts) counts every attempt, retries included, because a
 * quota counts them; it would over-state the money, so cost does not read it.
 */

/** Providers that take a price (the local one costs nothing). */
export const PRICED_PROVIDERS = ["gemini", "turbotext", "openai"] as const;
export type PricedProvider = (typeof PRICED_PROVIDERS)[number];

export type ProviderPrices = Record<PricedProvider, number | null>;

export const PRICE_RANGE = { minimum: 0, maximum: 1000 } as const;
export const CURRENCY_PATTERN = "^[A-Z]{3}$";
export const DEFAULT_CURRENCY = "USD";

/**
 * Published list prices per generated image (USD), shown as hints on the settings page — the
 * operator enters the price their account actually pays, in their currency. Turbotext sells
 * generations in roubles by its own tariff: no figure here.
 */
export const LIST_PRICES: Record<PricedProvider, { model: string; price: string }[]> = {
  gemini: [
    { model: "gemini-2.5-flash-image", price: "$0.039" },
    { model: "gemini-3-pro-image-preview 1K/2K", price: "$0.134" },
    { model: "gemini-3-pro-image-preview 4K", price: "$0.24" },
  ],
  openai: [
    { model: "gpt-image-1 1024×1024 low", price: "$0.011" },
    { model: "gpt-image-1 1024×1024 medium", price: "$0.042" },
    { model: "gpt-image-1 1024×1024 high", price: "$0.167" },
  ],
  turbotext: [],
};

export interface ProviderCost {
  /** Billed requests (answers with an image) in the period. */
  requests: number;
  /** The price per request; null when the operator has not set one. */
  price: number | null;
  /** requests × price; null without a price. */
  cost: number | null;
}

export interface CostSummary {
  /** The sum over the providers with a price. */
  total: number;
  byProvider: Record<PricedProvider, ProviderCost>;
  /** Billed requests of providers without a price: the total leaves them out. */
  unpricedRequests: number;
}

/** Money is summed in millionths so 3 × 0.039 is 0.117, not 0.11699999999999999. */
function money(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The cost of the billed requests (per provider) at the given prices. */
export function costOf(
  billed: Readonly<Record<string, number>>,
  prices: Readonly<ProviderPrices>,
): CostSummary {
  let total = 0;
  let unpricedRequests = 0;
  const byProvider = {} as Record<PricedProvider, ProviderCost>;
  for (const provider of PRICED_PROVIDERS) {
    const requests = billed[provider] ?? 0;
    const price = prices[provider] ?? null;
    const cost = price === null ? null : money(requests * price);
    if (cost === null) unpricedRequests += requests;
    else total += cost;
    byProvider[provider] = { requests, price, cost };
  }
  return { total: money(total), byProvider, unpricedRequests };
}
