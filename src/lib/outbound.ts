/**
 * Where the server may send a request an admin typed in (the notification webhook): never to
 * link-local or cloud-metadata addresses, and not to this box or into the studio's private network
 * unless the operator says so (NOTIFY_ALLOW_LAN=true, for a LAN service such as a home-automation
 * hub or a relay on the box itself).
 * Literal addresses in any spelling the URL parser accepts (decimal `2130706433`, hex `0x7f.1`,
 * `[::ffff:127.0.0.1]`) are normalised by it first; names are checked again once resolved, at send.
 */
import { lookup } from "node:dns/promises";
import { addressMatcher, ipBytes } from "./net";

/** Never a target: "this network", link-local (incl. cloud metadata), multicast. */
const NEVER = addressMatcher([
  "0.0.0.0/8",
  "169.254.0.0/16",
  "224.0.0.0/4",
  "255.255.255.255/32",
  "::/128",
  "fe80::/10",
  "ff00::/8",
  "fd00:ec2::254/128",
]);
/** This box and the private networks a LAN service lives on. */
const LAN = addressMatcher([
  "127.0.0.0/8",
  "::1/128",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "fc00::/7",
]);

/** `internal`: never allowed; `lan`: allowed only with NOTIFY_ALLOW_LAN. */
export type OutboundProblem = "internal" | "lan";

/** Why an address may not be a target, or null when it may. */
export function addressProblem(address: string, allowLan: boolean): OutboundProblem | null {
  if (!ipBytes(address)) return null;
  if (NEVER(address)) return "internal";
  if (LAN(address) && !allowLan) return "lan";
  return null;
}

/** The problem with a URL's host as written (a literal address, or `localhost`). */
export function urlHostProblem(url: URL, allowLan: boolean): OutboundProblem | null {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return allowLan ? null : "lan";
  return addressProblem(host, allowLan);
}

/**
 * The same, after resolving the name: a public name that points inside (DNS rebinding, a typo's
 * wildcard record) is refused at send time. A name that does not resolve is for the sender to report.
 */
export async function resolvedHostProblem(url: URL, allowLan: boolean): Promise<OutboundProblem | null> {
  const literal = urlHostProblem(url, allowLan);
  if (literal || ipBytes(url.hostname.replace(/^\[|\]$/g, ""))) return literal;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(url.hostname, { all: true });
  } catch {
    return null;
  }
  for (const a of addresses) {
    const problem = addressProblem(a.address, allowLan);
    if (problem) return problem;
  }
  return null;
}
