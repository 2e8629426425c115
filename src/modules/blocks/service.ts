/**
 * Blocked addresses, as the operator sees and lifts them: the booth addresses throttled for wrong
 * ingest passwords (key: the address) and the admin logins throttled per user and address (key:
 * `user|address`). Lifting one is audited; the banner, `/system`, the API and the CLI all come
 * through here.
 */

import type { Block, ThrottleScope } from "../../domain/attention";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import { THROTTLE_SCOPES } from "../auth/throttle";

type Deps = Pick<Services, "store" | "clock">;

function isScope(s: string): s is ThrottleScope {
  return (THROTTLE_SCOPES as readonly string[]).includes(s);
}

function toBlock(r: {
  scope: string;
  key: string;
  failures: number;
  since: Date;
  blockedUntil: Date | null;
}) {
  const login = r.scope === "login";
  const bar = r.key.indexOf("|");
  return {
    scope: r.scope as ThrottleScope,
    key: r.key,
    address: login && bar >= 0 ? r.key.slice(bar + 1) : r.key,
    username: login && bar >= 0 ? r.key.slice(0, bar) : null,
    failures: r.failures,
    since: r.since,
    until: r.blockedUntil!,
  } satisfies Block;
}

/** The blocks in force now, the longest-standing first. */
export async function listBlocks(services: Pick<Services, "store">, now: Date): Promise<Block[]> {
  return (await services.store.auth.blocked(now)).map(toBlock);
}

/** `GET /api/blocks`'s entry. */
export function blockJson(b: Block) {
  return { scope: b.scope, key: b.key, failures: b.failures, until: b.until.toISOString() };
}

/** Lifts one block; 404 `block_not_found` when there is no such block in force. */
export async function liftBlock(
  services: Deps & Pick<Services, "settings" | "log">,
  scope: string,
  key: string,
  by: string,
): Promise<void> {
  const lifted = isScope(scope)
    ? await services.store.auth.unblock(services.clock.now(), { scope, key })
    : [];
  if (!lifted.length) {
    throw new AppError("block_not_found", `No ${isScope(scope) ? scope : "such"} block for "${key}"`, {
      scope,
      key,
    });
  }
  await audited(services, lifted, by);
}

/** Lifts every block of `address` (its booth block and its admins' login blocks), or all of them. */
export async function liftBlocks(
  services: Deps & Pick<Services, "settings" | "log">,
  which: { address: string } | "all",
  by: string,
): Promise<{ scope: string; key: string; failures: number }[]> {
  const lifted = await services.store.auth.unblock(services.clock.now(), which);
  await audited(services, lifted, by);
  return lifted;
}

async function audited(
  services: Pick<Services, "settings" | "log">,
  lifted: { scope: string; key: string; failures: number }[],
  by: string,
): Promise<void> {
  for (const b of lifted) {
    services.log.info("auth.block_lifted", { scope: b.scope, key: b.key, by });
    await services.settings.audit(by, "block.lifted", { scope: b.scope, key: b.key, failures: b.failures });
  }
}
