/**
 * `photochanger provider resume <gemini|turbotext|openai>`: the provider said its daily quota is
 * exhausted (or a 429 was read as that), and the operator knows better — a billing upgrade, a
 * misread answer. Its slots take uploads again at once; audited as `cli`.
 */
import { isQuotaProvider, QUOTA_PROVIDERS } from "../domain/quota";
import type { Services } from "../services";

export interface ResumeOutcome {
  lines: string[];
  /** 0 when the provider takes uploads now; 1 when its own daily limit still refuses them. */
  code: number;
}

export function isResumable(id: string): boolean {
  return isQuotaProvider(id);
}

export const RESUMABLE = QUOTA_PROVIDERS;

export async function resumeProvider(services: Pick<Services, "quota">, id: string): Promise<ResumeOutcome> {
  if (!isQuotaProvider(id)) throw new Error(`"${id}" has no quota (expected ${QUOTA_PROVIDERS.join(", ")})`);
  const before = await services.quota.state(id);
  const after = await services.quota.resume(id, "cli");
  const today = `today ${after.requests} request${after.requests === 1 ? "" : "s"}${
    after.limit === null ? ", no daily limit set" : ` of ${after.limit}`
  }; the quota day ends ${after.resetsAt.toISOString()}`;
  const lines = [
    before.exhaustedByProvider
      ? `${id}: resumed — the "quota exhausted" it answered earlier is forgotten (${today})`
      : `${id}: was not marked exhausted by the provider (${today})`,
  ];
  if (after.exhausted) {
    lines.push(
      `${id}: still refused — its daily limit of ${after.limit} is used up; raise provider_daily_limit.${id} in Settings`,
    );
    return { lines, code: 1 };
  }
  return { lines, code: 0 };
}
