/** @jsxImportSource @kitajs/html */
/** Settings: the price per billed request of each provider and the currency (src/domain/cost.ts). */
import { LIST_PRICES, PRICED_PROVIDERS, type PricedProvider } from "../src/domain/cost";
import { AlertText, Para } from "./components";
import type { View } from "./view";

export interface PricesModel {
  prices: Record<string, number | null>;
  currency: string;
  labels: Record<string, string>;
}

export function PricesCard({
  v,
  m,
  readOnly,
  errors = {},
  values,
  saved,
}: {
  v: View;
  m: PricesModel;
  readOnly: boolean;
  errors?: Record<string, string>;
  values?: Record<string, string>;
  saved?: boolean;
}): JSX.Element {
  const t = v.t.settings;
  return (
    <form id="prices" class="card" hx-post="/settings/prices" hx-target="this" hx-swap="outerHTML" novalidate>
      <h2 safe>{t.pricesTitle}</h2>
      <p class="hint" safe>
        {t.pricesHint}
      </p>
      <AlertText kind="success" text={saved ? t.pricesSaved : undefined} />
      <AlertText kind="error" text={errors._} />
      <div class={errors.currency ? "field invalid" : "field"} data-field="currency">
        <label for="f-currency">
          <span safe>{t.currency}</span>
        </label>
        <input
          type="text"
          id="f-currency"
          name="currency"
          maxlength="3"
          pattern="[A-Z]{3}"
          autocomplete="off"
          value={values?.currency ?? m.currency}
          disabled={readOnly}
        />
        <p class="hint">
          <span safe>{t.currencyHint}</span> <code>USD</code>, <code>EUR</code>, <code>RUB</code>
        </p>
        <Para class="field-error" text={errors.currency} />
      </div>
      {PRICED_PROVIDERS.map((id) => {
        const name = `provider_price.${id}`;
        const error = errors[name];
        const price = m.prices[id];
        return (
          <div class={error ? "field invalid" : "field"} data-field={name}>
            <label for={`f-price-${id}`}>
              <span safe>{t.priceLabel(m.labels[id] ?? id)}</span>
            </label>
            <input
              type="number"
              id={`f-price-${id}`}
              name={name}
              min="0"
              step="any"
              inputmode="decimal"
              placeholder={t.priceNone}
              value={values?.[name] ?? (price === null || price === undefined ? "" : String(price))}
              disabled={readOnly}
            />
            <ListPrice v={v} id={id} />
            <Para class="field-error" text={error} />
          </div>
        );
      })}
      {readOnly ? (
        ""
      ) : (
        <button class="btn" type="submit" safe>
          {t.savePrices}
        </button>
      )}
    </form>
  );
}

/** The provider's published list prices (USD per image), as a hint. */
function ListPrice({ v, id }: { v: View; id: PricedProvider }): JSX.Element {
  const list = LIST_PRICES[id];
  if (!list.length) {
    return (
      <p class="hint" safe>
        {v.t.settings.listPriceTariff}
      </p>
    );
  }
  return (
    <p class="hint" data-list-price={id}>
      <span safe>{v.t.settings.listPrice}</span>{" "}
      {list.map((p, i) => (
        <>
          {i ? " · " : ""}
          <code safe>{`${p.model} ${p.price}`}</code>
        </>
      ))}
    </p>
  );
}
