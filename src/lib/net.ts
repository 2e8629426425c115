/** IP addresses and CIDR ranges (IPv4, IPv6, IPv4-mapped IPv6), for TRUST_PROXY. */
import { isIP } from "node:net";

/** The address as bytes (4 for IPv4 and IPv4-mapped IPv6, 16 for IPv6), or null. */
export function addressBytes(address: string): Uint8Array | null {
  const a = address.trim().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return addressBytes(mapped[1]!);
  const kind = isIP(a);
  if (kind === 4) return new Uint8Array(a.split(".").map(Number));
  if (kind !== 6) return null;
  const [head = "", tail = ""] = a.includes("::") ? a.split("::") : [a, ""];
  const groups = (s: string) => (s ? s.split(":") : []);
  let h = groups(head);
  let t = groups(tail);
  // A trailing dotted quad (::1.2.3.4) stands for two groups.
  const last = (t.length ? t : h).at(-1);
  if (last?.includes(".")) {
    const v4 = last.split(".").map(Number) as [number, number, number, number];
    const pair = [((v4[0] << 8) | v4[1]).toString(16), ((v4[2] << 8) | v4[3]).toString(16)];
    if (t.length) t = [...t.slice(0, -1), ...pair];
    else h = [...h.slice(0, -1), ...pair];
  }
  const fill = a.includes("::") ? 8 - h.length - t.length : 0;
  const all = [...h, ...Array(fill).fill("0"), ...t];
  if (all.length !== 8) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

interface Range {
  bytes: Uint8Array;
  bits: number;
}

function parseRange(entry: string): Range | null {
  const [addr = "", bitsText] = entry.split("/");
  const bytes = addressBytes(addr);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (bitsText === undefined) return { bytes, bits: max };
  if (!/^\d+$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > max) return null;
  return { bytes, bits };
}

export function isAddressOrCidr(entry: string): boolean {
  return parseRange(entry) !== null;
}

function inRange(address: Uint8Array, range: Range): boolean {
  if (address.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** A matcher for a list of addresses/CIDRs; invalid entries never match. */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const ranges = entries.map(parseRange).filter((r): r is Range => r !== null);
  return (address) => {
    if (!ranges.length) return false;
    const bytes = addressBytes(address);
    return !!bytes && ranges.some((r) => inRange(bytes, r));
  };
}
