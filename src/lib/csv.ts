/** CSV for spreadsheets: one cell, quoted when needed, with formulas defused. */

/**
 * A cell: quoted when it holds a separator, a quote or a line break; a value that a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'` — names and booth fields
 * are typed by people.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(cells: unknown[]): string {
  return cells.map(csvCell).join(",");
}
