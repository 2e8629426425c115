/** One row of the table: what, target, measured — and what stands behind the figure. */
export interface Row {
  n: number;
  what: string;
  target: string;
  measured: string;
  /** true/false when the target is met/missed; null when the row could not be measured. */
  met: boolean | null;
  /** Side-by-side figures and how they were obtained. */
  notes: string[];
  /** For a miss: where the time (or memory) goes. */
  profile?: string[];
}

export function tableLines(rows: Row[]): string[] {
  const w = [3, 44, 34, 60, 6];
  const cell = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  const out = [
    `${cell("#", w[0]!)} ${cell("what", w[1]!)} ${cell("target", w[2]!)} ${cell("measured", w[3]!)} ok`,
    "-".repeat(w.reduce((a, b) => a + b + 1, 0)),
  ];
  for (const r of rows) {
    const ok = r.met === null ? "n/a" : r.met ? "yes" : "MISS";
    out.push(
      `${cell(String(r.n), w[0]!)} ${cell(r.what, w[1]!)} ${cell(r.target, w[2]!)} ${cell(r.measured, w[3]!)} ${ok}`,
    );
  }
  return out;
}

export function markdownTable(rows: Row[]): string[] {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const out = ["| # | what | target | measured | met |", "|---|---|---|---|---|"];
  for (const r of rows) {
    const ok = r.met === null ? "not measured" : r.met ? "yes" : "**no**";
    out.push(`| ${r.n} | ${esc(r.what)} | ${esc(r.target)} | ${esc(r.measured)} | ${ok} |`);
  }
  return out;
}
