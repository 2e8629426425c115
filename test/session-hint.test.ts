/**
 * The front door's cheap session check (src/modules/front-door/session-hint.ts) against what the
 * admin routes use: @elysiajs/jwt's verify with the product's options (SESSION_VERIFY) on the same
 * tokens, and Elysia's own cookie parser on the same Cookie headers. Where they differ the front
 * door would give a signed-in admin the anonymous body limit (a 413 on a settings save), or an
 * anonymous client the signed-in one.
 */

import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { Elysia } from "elysia";
import { parseCookie } from "elysia/cookies";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, SESSION_VERIFY } from "../src/modules/auth/plugin";
import { cookieValue, presentedToken, verifiesAsSession } from "../src/modules/front-door/session-hint";

const SECRET = "front-door-test-secret-0123456789abcdef";
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0, 500);
const NOW_S = Math.floor(NOW / 1000);

/** The product's signer and verifier, configured as authPlugin configures them. */
const jwtPlugin = new Elysia().use(jwt({ name: "jwt", secret: SECRET, alg: "HS256", exp: "12h" })).decorator
  .jwt;

const b64 = (x: string | Uint8Array) => Buffer.from(x).toString("base64url");
const json = (x: unknown) => b64(JSON.stringify(x));

/** A compact JWS over exactly these segments, signed with HMAC `hash` (or given a fixed signature). */
function forge(header: string, payload: string, hash = "sha256", secret = SECRET): string {
  return `${header}.${payload}.${createHmac(hash, secret).update(`${header}.${payload}`).digest("base64url")}`;
}

/** A segment lengthened to 4n+1 characters, a length no base64 text has. */
const lengthOneMod4 = (segment: string) =>
  segment.padEnd(segment.length + ((5 - (segment.length % 4)) % 4 || 4), "A");
/** Base64url with the `=` padding base64 would add (RFC 7515 leaves it out). */
const padded = (segment: string) => segment + "=".repeat((4 - (segment.length % 4)) % 4);

const HS256 = json({ alg: "HS256", typ: "JWT" });
const claims = (extra: Record<string, unknown> = {}) =>
  json({ sub: "serg", sid: "s-1", exp: NOW_S + 3600, ...extra });

async function tokens(): Promise<[string, string][]> {
  const issued = await jwtPlugin.sign({ sub: "serg", sid: "s-1", exp: NOW_S + 3600 });
  const [h, p, s] = issued.split(".") as [string, string, string];
  // The last base64url character of 32 bytes carries 4 bits of the signature and 2 unused ones.
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const strayBits = ALPHABET[ALPHABET.indexOf(s.at(-1)!) ^ 1]!;
  return [
    ["issued by the product's signer", issued],
    ["forged the same way", forge(HS256, claims())],
    ["wrong secret", forge(HS256, claims(), "sha256", "another-secret")],
    ["signature of another payload", `${h}.${claims({ sub: "root" })}.${s}`],
    ["expired a second ago", forge(HS256, claims({ exp: NOW_S - 1 }))],
    ["expires this second", forge(HS256, claims({ exp: NOW_S }))],
    ["expires next second", forge(HS256, claims({ exp: NOW_S + 1 }))],
    ["exp with a fraction, within this second", forge(HS256, claims({ exp: NOW_S + 0.2 }))],
    ["exp far in the future", forge(HS256, claims({ exp: 1e15 }))],
    ["exp as a string", forge(HS256, claims({ exp: String(NOW_S + 3600) }))],
    ["no exp", forge(HS256, json({ sub: "serg", sid: "s-1" }))],
    ["nbf in the future", forge(HS256, claims({ nbf: NOW_S + 60 }))],
    ["nbf now", forge(HS256, claims({ nbf: NOW_S }))],
    ["nbf as a string", forge(HS256, claims({ nbf: "0" }))],
    ["iat in the future", forge(HS256, claims({ iat: NOW_S + 3600 }))],
    ["iat as a string", forge(HS256, claims({ iat: "yesterday" }))],
    ["HS384 with our key", forge(json({ alg: "HS384" }), claims(), "sha384")],
    ["HS512 with our key", forge(json({ alg: "HS512" }), claims(), "sha512")],
    ["alg none", `${json({ alg: "none" })}.${claims()}.`],
    ["alg missing", forge(json({ typ: "JWT" }), claims())],
    ["alg hs256 in lower case", forge(json({ alg: "hs256" }), claims())],
    ["an unknown critical header", forge(json({ alg: "HS256", crit: ["x-ours"], "x-ours": 1 }), claims())],
    ["b64: false without crit", forge(json({ alg: "HS256", b64: false }), claims())],
    ["typ at+jwt and a kid", forge(json({ alg: "HS256", typ: "at+jwt", kid: "k1" }), claims())],
    ["header not an object", forge(b64("[1]"), claims())],
    ["header not JSON", forge(b64("{alg"), claims())],
    ["payload an array", forge(HS256, b64("[1,2]"))],
    ["payload null", forge(HS256, b64("null"))],
    ["payload not UTF-8", forge(HS256, b64(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])))],
    ["payload with a BOM", forge(HS256, b64(`\ufeff${JSON.stringify({ exp: NOW_S + 60 })}`))],
    ["signature padded with =", `${issued}=`],
    ["signature in base64 (not url) alphabet", `${h}.${p}.${Buffer.from(s, "base64url").toString("base64")}`],
    ["signature with stray bits in its last character", `${h}.${p}.${s.slice(0, -1)}${strayBits}`],
    ["signature cut short", `${h}.${p}.${s.slice(0, -2)}`],
    ["signature one character too long", `${issued}A`],
    ["payload of 4n+1 characters (no base64)", forge(HS256, lengthOneMod4(claims()))],
    ["signature padded with ==", `${issued}==`],
    ["header padded with =", forge(`${HS256}=`, claims())],
    ["header padded properly", forge(padded(HS256), claims())],
    ["payload padded properly", forge(HS256, padded(claims()))],
    ["payload padded twice over", forge(HS256, `${padded(claims())}====`)],
    ["four segments", `${issued}.x`],
    ["two segments", `${h}.${p}`],
    ["empty", ""],
    ["not a JWT", "hello"],
  ];
}

describe("the front door's token check against @elysiajs/jwt", () => {
  test("the same verdict on every token", async () => {
    const disagreements: string[] = [];
    const cases = await tokens();
    let accepted = 0;
    for (const [what, token] of cases) {
      const theirs =
        (await jwtPlugin.verify(token, { ...SESSION_VERIFY, currentDate: new Date(NOW) })) !== false;
      const ours = verifiesAsSession(token, SECRET, NOW);
      if (ours !== theirs) disagreements.push(`${what}: front door ${ours}, @elysiajs/jwt ${theirs}`);
      if (theirs) accepted++;
    }
    expect(disagreements).toEqual([]);
    expect(accepted).toBeGreaterThanOrEqual(8);
    expect(accepted).toBeLessThan(cases.length - 20);
  });
});

/** Cookie headers and the value of `name` in them, as the session routes read it. */
const COOKIE_HEADERS: [string, string][] = [
  [`${SESSION_COOKIE}=a.b.c`, SESSION_COOKIE],
  [`theme=dark; ${SESSION_COOKIE}=a.b.c; lang=ru`, SESSION_COOKIE],
  [`${SESSION_COOKIE} = a.b.c`, SESSION_COOKIE],
  [`\t${SESSION_COOKIE}=\ta.b.c\t`, SESSION_COOKIE],
  [`${SESSION_COOKIE}=first.b.c; ${SESSION_COOKIE}=second.b.c`, SESSION_COOKIE],
  [`${SESSION_COOKIE}x=a.b.c; x${SESSION_COOKIE}=d.e.f`, SESSION_COOKIE],
  [`${SESSION_COOKIE}; ${SESSION_COOKIE}=a.b.c`, SESSION_COOKIE],
  [`${SESSION_COOKIE}=`, SESSION_COOKIE],
  [`${SESSION_COOKIE}="a.b.c"`, SESSION_COOKIE],
  [`${SESSION_COOKIE}=a=b.c`, SESSION_COOKIE],
  [`${SECURE_SESSION_COOKIE}=a.b.c; ${SESSION_COOKIE}=d.e.f`, SECURE_SESSION_COOKIE],
  [`${SESSION_COOKIE}=d.e.f; ${SECURE_SESSION_COOKIE}=a.b.c`, SECURE_SESSION_COOKIE],
  [`${SESSION_COOKIE}=d.e.f`, SECURE_SESSION_COOKIE],
  ["", SESSION_COOKIE],
  [";;;", SESSION_COOKIE],
];

/** Elysia's reading, as sessionToken() in src/modules/auth/plugin.ts takes it. */
async function elysiaReads(header: string, name: string): Promise<string | null> {
  const jar = await parseCookie({ headers: {} } as never, header);
  const value = jar[name]?.value;
  return typeof value === "string" && value !== "" ? value : null;
}

describe("the front door's cookie reading against Elysia's", () => {
  test.each(COOKIE_HEADERS)("%p → %s", async (header, name) => {
    expect(cookieValue(header, name)).toBe(await elysiaReads(header, name));
  });

  test("a percent-encoded token: Elysia decodes it (twice); the front door does not take it", async () => {
    // Deliberate: our Set-Cookie never encodes a token (base64url and dots need none), so such a
    // cookie gets the anonymous body limit; the route itself still reads and checks it.
    expect(await elysiaReads(`${SESSION_COOKIE}=a%2Eb.c`, SESSION_COOKIE)).toBe("a.b.c");
    expect(cookieValue(`${SESSION_COOKIE}=a%2Eb.c`, SESSION_COOKIE)).toBeNull();
  });

  test("the token is read where the route reads it: Bearer first, else the scheme's cookie", () => {
    const request = (headers: Record<string, string>) => new Request("http://x/api/slots", { headers });
    const both = { authorization: "Bearer b.b.b", cookie: `${SESSION_COOKIE}=c.c.c` };
    expect(presentedToken(request(both), false)).toBe("b.b.b");
    expect(presentedToken(request({ cookie: `${SESSION_COOKIE}=c.c.c` }), false)).toBe("c.c.c");
    // Over HTTPS only the __Host- cookie counts (a plain one could be planted over HTTP).
    expect(presentedToken(request({ cookie: `${SESSION_COOKIE}=c.c.c` }), true)).toBeNull();
    expect(presentedToken(request({ cookie: `${SECURE_SESSION_COOKIE}=s.s.s` }), true)).toBe("s.s.s");
    expect(presentedToken(request({ authorization: "Basic abc" }), false)).toBeNull();
  });
});
