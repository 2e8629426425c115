/**
 * `photochanger unblock <address> | --all`: lifts the blocks of a booth address (and the admin
 * logins from it) that wrong passwords caused — for the operator at the box when the console is
 * out of reach. Audited as `cli`, like every other CLI change.
 */
import { liftBlocks } from "../modules/blocks/service";
import type { Services } from "../services";

export interface UnblockOutcome {
  /** The lines to print. */
  lines: string[];
  /** 0 when something was lifted, 1 when there was nothing to lift. */
  code: number;
}

/** `address` null: every block. */
export async function unblock(
  services: Pick<Services, "store" | "clock" | "settings" | "log">,
  address: string | null,
): Promise<UnblockOutcome> {
  const lifted = await liftBlocks(services, address === null ? "all" : { address }, "cli");
  if (!lifted.length) {
    return {
      lines: [address === null ? "nothing is blocked" : `${address} is not blocked`],
      code: address === null ? 0 : 1,
    };
  }
  return {
    lines: lifted.map(
      (b) =>
        `unblocked ${b.scope === "login" ? `login ${b.key}` : `booth address ${b.key}`} (${b.failures} wrong password${b.failures === 1 ? "" : "s"})`,
    ),
    code: 0,
  };
}
