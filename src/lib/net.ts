/**
 * IP addresses and CIDR ranges for TRUST_PROXY, in one 128-bit space: an IPv4 address is its
 * IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2, `::ffff:a.b.c.d`), as a dual-stack socket reports it.
 * So every spelling of a range means the same addresses — `10.0.0.0/8` ≡ `::ffff:10.0.0.0/104` —,
 * a peer that arrives as `::ffff:1.2.3.4` is 1.2.3.4, `::ffff:0:0/96` is every IPv4 address and
 * `::/0` every address at all. (proxy-addr, Express's matcher, treats them the same way.)
 */

/** An address's 16 bytes (IPv4 as IPv4-mapped), or null when it is no address. */
export function ipBytes(address: string): Uint8Array | null {
  let a = address.trim();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%"); // fe80::1%eth0: the zone says which link, not which address
  if (zone >= 0) a = a.slice(0, zone);
  const out = new Uint8Array(16);
  if (!a.includes(":")) {
    if (!readIpv4(a, out, 12)) return null;
    out[10] = 0xff;
    out[11] = 0xff;
    return out;
  }
  return readIpv6(a, out) ? out : null;
}

/** Four decimal octets without leading zeros (which inet_aton would read as octal) into `out` at `at`. */
function readIpv4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === "0")) return false;
    let n = 0;
    for (let j = 0; j < p.length; j++) {
      const d = p.charCodeAt(j) - 0x30;
      if (d < 0 || d > 9) return false;
      n = n * 10 + d;
    }
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** RFC 4291 §2.2 text: eight groups of 1–4 hex digits, one `::` for a run of zero groups, a dotted IPv4 tail. */
function readIpv6(s: string, out: Uint8Array): boolean {
  const gap = s.indexOf("::");
  if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) return false;
  const head = gap >= 0 ? s.slice(0, gap) : s;
  const tail = gap >= 0 ? s.slice(gap + 2) : "";
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const last = gap >= 0 ? tailGroups : headGroups;
  // A dotted quad may stand for the last two groups.
  const v4 = new Uint8Array(4);
  const dotted = last.length > 0 && last[last.length - 1]!.includes(".");
  if (dotted && !readIpv4(last.pop()!, v4, 0)) return false;
  const groups = headGroups.length + tailGroups.length + (dotted ? 2 : 0);
  if (gap >= 0 ? groups > 7 : groups !== 8) return false;
  const words: number[] = [];
  for (const g of headGroups) words.push(hexGroup(g));
  for (let i = groups; i < 8; i++) words.push(0);
  for (const g of tailGroups) words.push(hexGroup(g));
  if (dotted) words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    if (w < 0) return false;
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  }
  return true;
}

function hexGroup(g: string): number {
  if (g.length === 0 || g.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i);
    const lower = c | 0x20;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
    if (d < 0) return -1;
    n = (n << 4) | d;
  }
  return n;
}

export interface AddressRange {
  bytes: Uint8Array;
  /** The prefix length in the 128-bit space (an IPv4 /8 is 104). */
  bits: number;
}

/** A TRUST_PROXY entry (an address, or address/prefix) as a range, or what is wrong with it. */
export function parseRange(entry: string): { range: AddressRange } | { problem: string } {
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const bytes = ipBytes(address);
  if (!bytes || address.trim() !== address) return { problem: "is not an IP address or a CIDR range" };
  const ipv4 = !address.includes(":");
  const max = ipv4 ? 32 : 128;
  if (slash < 0) return { range: { bytes, bits: 128 } };
  const prefix = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) {
    return { problem: `has a prefix length "${prefix}" that is not a number from 0 to ${max}` };
  }
  const bits = Number(prefix);
  if (bits > max)
    return {
      problem: `has a prefix length of ${bits}, over the ${max} bits of an IPv${ipv4 ? 4 : 6} address`,
    };
  return { range: { bytes, bits: ipv4 ? bits + 96 : bits } };
}

function inRange(address: Uint8Array, range: AddressRange): boolean {
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** `inner` lies wholly inside `outer`. */
function within(inner: AddressRange, outer: AddressRange): boolean {
  return inner.bits >= outer.bits && inRange(inner.bytes, outer);
}

function rangeOf(entry: string): AddressRange {
  const parsed = parseRange(entry);
  if (!("range" in parsed)) throw new Error(`not a range: ${entry}`);
  return parsed.range;
}

/** Addresses no TCP peer can have, each with the reason. */
const NO_PEER: { range: AddressRange; why: string }[] = [
  { range: rangeOf("::/128"), why: "it is the unspecified address" },
  {
    range: rangeOf("0.0.0.0/8"),
    why: "0.0.0.0/8 is no host's address (for every IPv4 peer write 0.0.0.0/0)",
  },
  { range: rangeOf("224.0.0.0/4"), why: "it is multicast" },
  { range: rangeOf("255.255.255.255"), why: "it is the broadcast address" },
  { range: rangeOf("ff00::/8"), why: "it is multicast" },
];
const IPV4_COMPATIBLE = rangeOf("::/96");
const LOOPBACK_V6 = rangeOf("::1");

/** Why a well-formed range can never match a peer, or null when it can. */
export function neverMatches(range: AddressRange): string | null {
  for (const { range: r, why } of NO_PEER) if (within(range, r)) return why;
  if (within(range, IPV4_COMPATIBLE) && !inRange(LOOPBACK_V6.bytes, range)) {
    // `::10.0.0.1` is the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1), not IPv4.
    return "it is an IPv4-compatible IPv6 address, which no peer has (for IPv4 write a.b.c.d or ::ffff:a.b.c.d)";
  }
  return null;
}

/** A matcher for a list of addresses/CIDRs (validated by the config); an invalid entry never matches. */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    const parsed = parseRange(entry);
    if ("range" in parsed) ranges.push(parsed.range);
  }
  return (address) => {
    if (!ranges.length) return false;
    const bytes = ipBytes(address);
    return !!bytes && ranges.some((r) => inRange(bytes, r));
  };
}
