/**
 * The parameters of a header value such as `form-data; name="f"; filename*=UTF-8''n%C3%A4me.jpg`
 * (RFC 7578 / 6266 / 8187), read by one left-to-right scan rather than by regexes: a `;` or a
 * `name=` inside a quoted value stays part of that value, and no pattern can backtrack on a long
 * hostile header.
 *
 * Quoted strings: `\"` and `\\` stand for `"` and `\`; a backslash before any other character is
 * kept as it is, because browsers send Windows paths (`C:\files\x.jpg`) without escaping them.
 */

export interface HeaderParams {
  /** What comes before the first `;`, trimmed (e.g. `form-data`, `multipart/form-data`). */
  type: string;
  /** Parameters by lower-cased name; the first of a repeated name wins. */
  params: Map<string, string>;
}

const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function parseHeaderParams(value: string): HeaderParams {
  const n = value.length;
  let i = value.indexOf(";");
  if (i < 0) i = n;
  const type = value.slice(0, i).trim();
  const params = new Map<string, string>();
  while (i < n) {
    i++; // past the ';'
    const nameStart = i;
    while (i < n && value.charCodeAt(i) !== EQUALS && value.charCodeAt(i) !== SEMICOLON) i++;
    const name = value.slice(nameStart, i).trim().toLowerCase();
    if (i >= n || value.charCodeAt(i) === SEMICOLON) continue; // a name without a value
    i++; // past the '='
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    let paramValue: string;
    if (value.charCodeAt(i) === QUOTE) {
      let out = "";
      let from = ++i;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH && i + 1 < n) {
          const next = value.charCodeAt(i + 1);
          if (next === QUOTE || next === BACKSLASH) {
            out += value.slice(from, i);
            from = ++i; // the escaped character starts the next run
          }
        }
      }
      paramValue = out + value.slice(from, i);
      // Whatever follows the closing quote up to the next ';' is not part of any value.
      while (i < n && value.charCodeAt(i) !== SEMICOLON) i++;
    } else {
      const from = i;
      while (i < n && value.charCodeAt(i) !== SEMICOLON) i++;
      paramValue = value.slice(from, i).trim();
    }
    if (name && !params.has(name)) params.set(name, paramValue);
  }
  return { type, params };
}

/**
 * An RFC 8187 ext-value (`charset'language'percent-encoded`) decoded; null when it is malformed or
 * in a charset we cannot read (the caller then falls back to the plain parameter). UTF-8 and
 * ISO-8859-1 (byte for byte, as RFC 8187 means it) always work; other charsets as TextDecoder knows them.
 */
export function decodeExtValue(ext: string): string | null {
  const first = ext.indexOf("'");
  const second = first < 0 ? -1 : ext.indexOf("'", first + 1);
  if (first <= 0 || second < 0) return null;
  const charset = ext.slice(0, first).toLowerCase();
  const encoded = ext.slice(second + 1);
  const bytes = new Uint8Array(encoded.length);
  let length = 0;
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x25) {
      const hex = hexPair(encoded, i + 1);
      if (hex < 0) return null;
      bytes[length++] = hex;
      i += 2;
    } else if (c > 0x20 && c < 0x7f) {
      bytes[length++] = c;
    } else {
      return null; // RFC 8187 value-chars are printable ASCII; anything else is not an ext-value
    }
  }
  const decoded = bytes.subarray(0, length);
  if (charset === "iso-8859-1" || charset === "latin1") return Buffer.from(decoded).toString("latin1");
  try {
    return new TextDecoder(charset === "utf8" ? "utf-8" : charset, { fatal: true }).decode(decoded);
  } catch {
    return null;
  }
}

function hexPair(s: string, at: number): number {
  const hi = hexDigit(s.charCodeAt(at));
  const lo = hexDigit(s.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
