/** Small string rules shared by input checks. */

/**
 * True when `s` holds a C0 control character (NUL, TAB, CR, LF…) or DEL: PostgreSQL text cannot
 * hold a NUL, a CR/LF in a header value splits the header, and browsers drop TAB/CR/LF from URLs
 * (which turns `/\t/evil.example` into `//evil.example`).
 */
export function hasControlCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
