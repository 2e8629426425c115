/**
 * Row 7 — footprint. The single binary is built (`scripts/build.ts --native`) next to a bare
 * `Bun.serve` hello-world compiled the same way (the Bun runtime's own floor). Cold start = spawn
 * until `/readyz` answers 200 (PostgreSQL up, database already migrated); idle RSS is read after a
 * few quiet seconds. Both binaries are measured alternately.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../build";
import { ROOT, waitReady } from "./env";
import { collect, freePort, median, rssOf, sleep, spawnChild, stopChild } from "./lib";

export interface FootprintRun {
  binaryBytes: number | null;
  bareBinaryBytes: number | null;
  coldStart: number[];
  bareColdStart: number[];
  idleRss: number;
  bareIdleRss: number;
  source: "binary" | "source";
  /** One start with LOG_LEVEL=debug: ms after spawn → log event, up to the first /readyz 200. */
  timeline: string[];
}

const HELLO = `Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => new Response("ok") });\n`;

export async function measureFootprint(
  scratch: string,
  databaseUrl: string,
  starts: number,
  idleSeconds: number,
): Promise<FootprintRun> {
  const dir = join(scratch, "footprint");
  mkdirSync(dir, { recursive: true });
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const binary = join(dir, "photochanger");
  const built = await compile({ outfile: binary, target: `bun-linux-${arch}`, optional: true });
  writeFileSync(join(dir, "hello.ts"), HELLO);
  const bare = join(dir, "hello");
  const bareBuilt = await Bun.build({
    entrypoints: [join(dir, "hello.ts")],
    target: "bun",
    compile: { target: `bun-linux-${arch}`, outfile: bare },
  }).then(
    (r) => r.success,
    () => false,
  );
  const serverCmd = built ? [binary, "serve"] : ["bun", join(ROOT, "src/main.ts"), "serve"];
  const bareCmd = bareBuilt ? [bare] : ["bun", join(dir, "hello.ts")];
  const dataDir = join(dir, "data");
  mkdirSync(dataDir, { recursive: true });

  const startOnce = async (cmd: string[], idle: boolean, trace = false) => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: databaseUrl,
      PHOTOCHANGER_DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: trace ? "debug" : "warn",
    };
    const t0 = performance.now();
    const wall0 = Date.now();
    const proc = spawnChild(cmd, {
      env,
      cwd: dataDir,
      stdin: "ignore",
      stdout: trace ? "pipe" : "ignore",
      stderr: "ignore",
    });
    const out = collect(proc.stdout);
    try {
      const ready = await waitReady(`http://127.0.0.1:${port}`, proc, 60_000);
      if (ready === null) throw new Error(`${cmd.join(" ")} did not become ready`);
      let rss = Number.NaN;
      if (idle) {
        await sleep(idleSeconds * 1000);
        rss = await rssOf(proc.pid);
      }
      const timeline: string[] = [];
      for (const line of out.text.split("\n")) {
        try {
          const rec = JSON.parse(line) as { time: string; event: string };
          timeline.push(`${String(Date.parse(rec.time) - wall0).padStart(5)} ms  ${rec.event}`);
        } catch {
          // not a log line
        }
      }
      timeline.push(`${String(Math.round(ready - t0)).padStart(5)} ms  /readyz answered 200`);
      return { ms: ready - t0, rss, timeline };
    } finally {
      await stopChild(proc, 15_000);
    }
  };

  // First start migrates and creates the accounts (argon2id): not a cold start of a set-up box.
  await startOnce(serverCmd, false);
  const coldStart: number[] = [];
  const bareColdStart: number[] = [];
  for (let i = 0; i < starts; i++) {
    coldStart.push((await startOnce(serverCmd, false)).ms);
    bareColdStart.push((await startOnce(bareCmd, false)).ms);
  }
  const idleRss = (await startOnce(serverCmd, true)).rss;
  const bareIdleRss = (await startOnce(bareCmd, true)).rss;
  const { timeline } = await startOnce(serverCmd, false, true);
  return {
    binaryBytes: built ? Bun.file(binary).size : null,
    bareBinaryBytes: bareBuilt ? Bun.file(bare).size : null,
    coldStart,
    bareColdStart,
    idleRss,
    bareIdleRss,
    source: built ? "binary" : "source",
    timeline,
  };
}

export function coldStartMedian(run: FootprintRun): number {
  return median(run.coldStart);
}
