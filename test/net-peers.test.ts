/**
 * The TRUST_PROXY matcher (src/lib/net.ts) property-tested against ipaddr.js on generated entries
 * and peers (seeded): every spelling of an IPv4 range (dotted, IPv4-mapped dotted, IPv4-mapped hex),
 * IPv6 compressed, uncompressed, upper-case and zero-padded, prefixes at and near their edges, and
 * malformed entries. The oracle is ipaddr.js's parsing and `match` with the rule proxy-addr (Express)
 * puts around it: an IPv4-mapped range of /96 or more is the IPv4 range, and a peer of the other
 * family is converted to the range's family when it can be.
 */
import { describe, expect, test } from "bun:test";
import ipaddr from "ipaddr.js";
import { ConfigError, loadConfig } from "../src/config";
import { addressMatcher, ipBytes, parseRange } from "../src/lib/net";
import { seededRandom } from "./helpers/random";

type Oracle = { valid: false } | { valid: true; match(address: string): boolean };

/** ipaddr.js, strict about IPv4 (four decimal parts, as our parser is) and without zone ids. */
function oracle(entry: string): Oracle {
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  if (!strictlyValid(address)) return { valid: false };
  let range: ipaddr.IPv4 | ipaddr.IPv6;
  let bits: number;
  try {
    if (slash < 0) {
      range = ipaddr.parse(entry);
      bits = range.kind() === "ipv4" ? 32 : 128;
    } else {
      [range, bits] = ipaddr.parseCIDR(entry);
    }
  } catch {
    return { valid: false };
  }
  if (range.kind() === "ipv6" && (range as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    range = (range as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  const kind = range.kind();
  return {
    valid: true,
    match(peer) {
      let ip = ipaddr.parse(peer);
      if (ip.kind() !== kind) {
        if (kind === "ipv4") {
          if (!(ip as ipaddr.IPv6).isIPv4MappedAddress()) return false;
          ip = (ip as ipaddr.IPv6).toIPv4Address();
        } else {
          ip = (ip as ipaddr.IPv4).toIPv4MappedAddress();
        }
      }
      return ip.match(range, bits);
    },
  };
}

function strictlyValid(address: string): boolean {
  if (address.includes("%")) return false;
  if (!address.includes(":")) return ipaddr.IPv4.isValidFourPartDecimal(address);
  if (!ipaddr.IPv6.isValid(address)) return false;
  // A dotted tail must itself be four plain decimal parts.
  const tail = address.slice(address.lastIndexOf(":") + 1);
  return !tail.includes(".") || ipaddr.IPv4.isValidFourPartDecimal(tail);
}

/** Spellings of 16 bytes as IPv6 text. */
function ipv6Spellings(bytes: Uint8Array): string[] {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16));
  const canonical = ipaddr.fromByteArray([...bytes]).toString();
  const dottedTail = `${groups.slice(0, 6).join(":")}:${[...bytes.subarray(12)].join(".")}`;
  return [
    canonical,
    groups.join(":"),
    groups.map((g) => g.padStart(4, "0")).join(":"),
    canonical.toUpperCase(),
    dottedTail,
    ipaddr.fromByteArray([...bytes]).toNormalizedString(),
  ];
}

const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** One generated (entry, peer) pair; the peer is often inside or near the entry's range. */
function generate(next: () => number): { entry: string; peer: string } {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const family = pick(["v4", "v4", "v6", "mapped"] as const);
  const base = new Uint8Array(16);
  if (family === "v6") for (let i = 0; i < 16; i++) base[i] = int(256);
  else {
    base.set(MAPPED);
    for (let i = 12; i < 16; i++) base[i] = int(256);
  }
  if (family === "v6" && next() < 0.2) base.fill(0, 0, 8 + int(8)); // runs of zeros, ::/96 and ::ffff:0:0/96 neighbours
  const max = family === "v6" ? 128 : 32;
  const prefix = pick([0, 1, max - 1, max, int(max + 1), int(max + 1), int(max + 1)]);
  const v4 = [...base.subarray(12)].join(".");
  let entry: string;
  if (family === "v4") entry = `${v4}/${prefix}`;
  else if (family === "mapped") {
    const hexTail = `${((base[12]! << 8) | base[13]!).toString(16)}:${((base[14]! << 8) | base[15]!).toString(16)}`;
    entry = `${pick([`::ffff:${v4}`, `::FFFF:${hexTail}`, `0:0:0:0:0:ffff:${v4}`])}/${prefix + 96}`;
  } else entry = `${pick(ipv6Spellings(base))}/${prefix}`;
  let bits = family === "v6" ? prefix : prefix + 96;
  if (next() < 0.15) {
    entry = entry.slice(0, entry.indexOf("/")); // a single address
    bits = 128;
  }
  // The peer: inside the range (bits past the prefix flipped), just outside it (one bit of the
  // prefix flipped too), or a stranger.
  const peer = new Uint8Array(base);
  const flip = (bit: number) => {
    peer[bit >> 3]! ^= 0x80 >> (bit & 7);
  };
  for (let bit = bits; bit < 128; bit++) if (next() < 0.5) flip(bit);
  if (bits > 0 && next() < 0.5) flip(int(bits));
  if (next() < 0.1) for (let i = 0; i < 16; i++) peer[i] = int(256);
  const mapped = peer.subarray(0, 12).every((b, i) => b === MAPPED[i]);
  const peerText = mapped && next() < 0.6 ? [...peer.subarray(12)].join(".") : pick(ipv6Spellings(peer));
  return { entry, peer: peerText };
}

const MALFORMED = [
  "10.0.0.0/8/9",
  "10.0.0.0/33",
  "::/129",
  "::ffff:10.0.0.0/129",
  "10.0.0.0/",
  "10.0.0.0/-1",
  "10.0.0.0/8a",
  "10.0.0.0/ 8",
  "/8",
  "1.2.3",
  "1.2.3.4.5",
  "1.2.3.256",
  "01.2.3.4",
  "1.2.3.-4",
  "0x1.2.3.4",
  "1::2::3",
  ":::1",
  "12345::1",
  "g::1",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7",
  "::ffff:1.2.3",
  "::ffff:01.2.3.4",
  "1.2.3.4::",
  "example.com",
  "",
];

describe("TRUST_PROXY matching against ipaddr.js", () => {
  test("4,000 generated entry/peer pairs: the same validity and the same verdict", () => {
    const next = seededRandom(27);
    const disagreements: string[] = [];
    let matched = 0;
    for (let i = 0; i < 4000; i++) {
      const { entry, peer } = generate(next);
      const theirs = oracle(entry);
      const ours = parseRange(entry);
      if ("range" in ours !== theirs.valid) {
        disagreements.push(`${entry}: valid ${"range" in ours} vs ipaddr.js ${theirs.valid}`);
        continue;
      }
      if (!theirs.valid) continue;
      const want = theirs.match(peer);
      if (addressMatcher([entry])(peer) !== want)
        disagreements.push(`${entry} ∋ ${peer}: ipaddr.js says ${want}`);
      if (want) matched++;
    }
    expect(disagreements).toEqual([]);
    // Both verdicts occur often enough to mean something.
    expect(matched).toBeGreaterThan(1000);
    expect(matched).toBeLessThan(3000);
  });

  test.each(MALFORMED)("%p is malformed for both", (entry) => {
    expect(oracle(entry).valid).toBe(false);
    expect("problem" in parseRange(entry)).toBe(true);
  });

  test("IPv4-mapped spellings are the IPv4 ranges they name", () => {
    const peers = ["10.1.2.3", "::ffff:10.1.2.3", "11.0.0.1", "::ffff:11.0.0.1", "1.2.3.4", "::1", "fd00::1"];
    const verdicts = (entries: string[]) => peers.map(addressMatcher(entries));
    expect(verdicts(["::ffff:10.0.0.0/104"])).toEqual(verdicts(["10.0.0.0/8"]));
    expect(verdicts(["::ffff:a00:0/104"])).toEqual(verdicts(["10.0.0.0/8"]));
    expect(verdicts(["::ffff:1.2.3.4/128"])).toEqual(verdicts(["1.2.3.4"]));
    expect(verdicts(["::ffff:0:0/96"])).toEqual([true, true, true, true, true, false, false]);
    expect(verdicts(["::/0"])).toEqual(peers.map(() => true));
    expect(verdicts(["0.0.0.0/0"])).toEqual([true, true, true, true, true, false, false]);
    expect(ipBytes("[::1]")).toEqual(ipBytes("::1"));
    expect(ipBytes("fe80::1%eth0")).toEqual(ipBytes("fe80::1"));
  });
});

describe("TRUST_PROXY in the config", () => {
  const load = (value: string) => () => loadConfig({ TRUST_PROXY: value });

  test("every spelling of an IPv4-mapped range starts the server", () => {
    expect(load("::ffff:10.0.0.0/104, ::ffff:1.2.3.4/128, ::ffff:0:0/96, ::/0")().trustProxy).toHaveLength(4);
  });

  test.each([
    ["10.0.0.0/8/9", /"10\.0\.0\.0\/8\/9" has a prefix length "8\/9"/],
    ["10.0.0.0/33", /prefix length of 33, over the 32 bits/],
    ["::/129", /prefix length of 129, over the 128 bits/],
    ["10.0.0.0/", /prefix length ""/],
    ["localhost", /"localhost" is not an IP address/],
    ["01.2.3.4", /is not an IP address/],
  ])("malformed %p is a config error", (entry, message) => {
    expect(load(entry)).toThrow(ConfigError);
    expect(load(entry)).toThrow(message);
  });

  test.each([
    ["0.0.0.0", /no host's address/],
    ["224.0.0.0/4", /multicast/],
    ["239.1.2.3", /multicast/],
    ["ff02::1", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["::", /unspecified/],
    ["::10.0.0.1", /IPv4-compatible/],
  ])("%p can never match a peer: a config error saying why", (entry, why) => {
    expect(load(`127.0.0.1, ${entry}`)).toThrow(ConfigError);
    expect(load(`127.0.0.1, ${entry}`)).toThrow(why);
  });

  test("ranges that only overlap addresses no peer has are fine", () => {
    expect(load("0.0.0.0/0, ::/96, 224.0.0.0/3, ::1")().trustProxy).toHaveLength(4);
  });
});
