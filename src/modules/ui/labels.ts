/** Human names of providers and operations in the page's language (from the provider catalogue). */
import { dict, type Lang } from "../../../templates/i18n/index";
import type { Services } from "../../services";

export function providerLabel(services: Pick<Services, "providers">, id: string, lang: Lang = "ru"): string {
  return dict(lang).providers[id] ?? services.providers.get(id)?.spec.label ?? id;
}

export function operationLabel(
  services: Pick<Services, "providers">,
  provider: string,
  operation: string,
  lang: Lang,
): string {
  return services.providers.operation(provider, operation)?.label[lang] ?? operation;
}

/** Every template role the catalogue declares, named in the page's language ("style" → "Шаблон стиля"). */
export function roleLabels(services: Pick<Services, "providers">, lang: Lang): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of services.providers.list()) {
    for (const op of p.spec.operations) {
      for (const t of op.templates ?? []) out[t.role] ??= t.label[lang];
    }
  }
  return out;
}

/** Every provider's name in the page's language, by id. */
export function providerLabels(services: Pick<Services, "providers">, lang: Lang): Record<string, string> {
  return Object.fromEntries(
    services.providers.list().map((p) => [p.spec.id, providerLabel(services, p.spec.id, lang)]),
  );
}
