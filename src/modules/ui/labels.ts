/** Human names of providers and operations in the page's language (from the provider catalogue). */
import { dict, type Lang } from "../../../templates/i18n/index";
import type { Services } from "../../services";

export function providerLabel(rt: Pick<Services, "providers">, id: string, lang: Lang = "ru"): string {
  return dict(lang).providers[id] ?? rt.providers.get(id)?.spec.label ?? id;
}

export function operationLabel(
  rt: Pick<Services, "providers">,
  provider: string,
  operation: string,
  lang: Lang,
): string {
  return rt.providers.operation(provider, operation)?.label[lang] ?? operation;
}
