/**
 * The shape of the code, checked from its import graph (read as text, so it costs milliseconds):
 * no import cycles anywhere in src/ and templates/ — type-only imports count, since a cycle of types
 * is still two modules that cannot be understood apart — and the database reached only through
 * src/store (src/db holds the client and the schema). Biome's noRestrictedImports rule says the
 * same in the editor; this test says it for the whole tree in CI. And one table, one store: each
 * table of src/db/schema.ts is queried from one store file, but for the few statements named in
 * CROSS_TABLE.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SCANNED = ["src", "templates"];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?["']([^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== "vendor" && name !== "node_modules") out.push(...sourceFiles(full));
    } else if (/\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

function resolveLocal(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.tsx`,
    join(base, "index.ts"),
    join(base, "index.tsx"),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** file → (imported specifier, resolved local file or null) */
function importGraph(): Map<string, { spec: string; file: string | null }[]> {
  const graph = new Map<string, { spec: string; file: string | null }[]>();
  for (const dir of SCANNED) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const text = readFileSync(file, "utf8");
      const edges: { spec: string; file: string | null }[] = [];
      for (const re of [IMPORT, DYNAMIC]) {
        for (const m of text.matchAll(re)) edges.push({ spec: m[1]!, file: resolveLocal(file, m[1]!) });
      }
      graph.set(file, edges);
    }
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(graph: Map<string, { file: string | null }[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { file: w } of graph.get(v) ?? []) {
      if (!w || !graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.file === v);
      if (scc.length > 1 || selfLoop) out.push(scc.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const DATABASE_MODULES = /^(drizzle-orm|postgres)(\/|$)/;

/**
 * The job store is src/store/job-store.ts with the statement files it binds (its imports inside
 * src/store: queue/, job-reads, job-stats, job-rollup); every other store is its own file.
 */
const JOB_STORE = "src/store/job-store.ts";

/**
 * The statements that touch a table another store owns, each because it must be one statement (or
 * is no product path). Every entry must still be needed: a stale one fails the test too.
 */
const CROSS_TABLE: { table: string; store: string; why: string }[] = [
  {
    table: "media_object",
    store: JOB_STORE,
    why: "a finalization (queue/finalize.ts) and a delete (queue/results.ts) let go of the job's temporary media in the statement that ends it: one commit, nothing half-finished",
  },
  {
    table: "instance",
    store: JOB_STORE,
    why: "recovery (queue/recover.ts) re-queues the jobs of stopped instances, reading which stopped in the same statement",
  },
  {
    table: "slot",
    store: JOB_STORE,
    why: "slotHealth (job-stats.ts) lists every slot with its newest outcomes: slot joined to job in one statement",
  },
  {
    table: "job",
    store: "src/store/seed.ts",
    why: "bench and test history written in bulk (the job table made unlogged meanwhile), not a product path",
  },
];

/** Table name and drizzle variable of each pgTable in src/db/schema.ts. */
function schemaTables(): { name: string; variable: string }[] {
  const schema = readFileSync(join(ROOT, "src/db/schema.ts"), "utf8");
  return [...schema.matchAll(/export const (\w+)\s*=\s*pgTable\(\s*"(\w+)"/g)].map((m) => ({
    variable: m[1]!,
    name: m[2]!,
  }));
}

/** Does this source (comments stripped) query the table, with drizzle or in raw SQL? */
function queries(source: string, t: { name: string; variable: string }): boolean {
  const drizzle = new RegExp(`\\.(?:from|insert|update|delete)\\(\\s*${t.variable}\\b`);
  const raw = new RegExp(`\\b(?:from|into|update|join)\\s+${t.name}\\b`, "i");
  return drizzle.test(source) || raw.test(source);
}

describe("architecture", () => {
  const graph = importGraph();

  test("the checker finds a cycle when there is one", () => {
    const a = "/x/a.ts";
    const b = "/x/b.ts";
    const c = "/x/c.ts";
    const g = new Map([
      [a, [{ file: b }]],
      [b, [{ file: c }]],
      [c, [{ file: a }]],
    ]);
    const found = cycles(g);
    expect(found.length).toBe(1);
    expect(found[0]!.map((f) => f.split("/").pop())).toEqual(["a.ts", "b.ts", "c.ts"]);
    expect(
      cycles(
        new Map([
          [a, [{ file: b }]],
          [b, []],
        ]),
      ),
    ).toEqual([]);
  });

  test("src/ and templates/ have no import cycles", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });

  test("only src/store and src/db reach the database", () => {
    const offenders: string[] = [];
    for (const [file, edges] of graph) {
      const rel = relative(ROOT, file);
      if (rel.startsWith("src/store/") || rel.startsWith("src/db/")) continue;
      for (const e of edges) {
        const dbClient = e.file !== null && relative(ROOT, e.file) === "src/db/client.ts";
        if (DATABASE_MODULES.test(e.spec) || dbClient) offenders.push(`${rel} → ${e.spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("templates read plain view models: nothing from src/modules", () => {
    const offenders: string[] = [];
    for (const [file, edges] of graph) {
      const rel = relative(ROOT, file);
      if (!rel.startsWith("templates/")) continue;
      for (const e of edges) {
        if (e.file && relative(ROOT, e.file).startsWith("src/modules/")) offenders.push(`${rel} → ${e.spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("each table is queried from one store file", () => {
    const tables = schemaTables();
    expect(tables.length).toBeGreaterThan(15);
    const jobStoreFiles = new Set(
      (graph.get(join(ROOT, JOB_STORE)) ?? [])
        .map((e) => e.file && relative(ROOT, e.file))
        .filter((f): f is string => !!f && f.startsWith("src/store/") && f !== "src/store/bind.ts"),
    );
    const storeOf = (rel: string) => (jobStoreFiles.has(rel) ? JOB_STORE : rel);
    const stores = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set()]));
    for (const file of sourceFiles(join(ROOT, "src/store"))) {
      const rel = relative(ROOT, file);
      const source = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      for (const t of tables) if (queries(source, t)) stores.get(t.name)!.add(storeOf(rel));
    }
    const allowed = (table: string, store: string) =>
      CROSS_TABLE.some((c) => c.table === table && c.store === store);
    const owners = Object.fromEntries(
      [...stores].map(([table, s]) => [table, [...s].filter((store) => !allowed(table, store))]),
    );
    const notOne = Object.entries(owners).filter(([, s]) => s.length !== 1);
    expect(notOne).toEqual([]);
    const stale = CROSS_TABLE.filter((c) => !stores.get(c.table)?.has(c.store));
    expect(stale).toEqual([]);
  });
});
