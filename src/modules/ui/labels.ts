/** Human names of providers and operations in the page's language (from the provider catalogue). */
import type { Lang } from "../../../templates/i18n/index";
import type { Runtime } from "../../runtime";

export function providerLabel(rt: Runtime, id: string): string {
  return rt.providers.get(id)?.spec.label ?? id;
}

export function operationLabel(rt: Runtime, provider: string, operation: string, lang: Lang): string {
  return rt.providers.operation(provider, operation)?.label[lang] ?? operation;
}
