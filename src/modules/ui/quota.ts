/** Quota states as the pages show them (labels from the provider catalogue). */
import type { QuotaView } from "../../../templates/quota";
import type { Services } from "../../services";
import { providerLabel } from "./labels";

export async function quotaViews(services: Pick<Services, "quota" | "providers">): Promise<QuotaView[]> {
  return (await services.quota.states()).map((q) => ({
    provider: q.provider,
    label: providerLabel(services, q.provider),
    requests: q.requests,
    limit: q.limit,
    usedRatio: q.usedRatio,
    warning: q.warning,
    exhausted: q.exhausted,
    exhaustedByProvider: q.exhaustedByProvider,
    resetsAt: q.resetsAt,
    zone: q.zone,
  }));
}
