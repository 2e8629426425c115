/**
 * `bun run test [bun test's arguments]`: the suite on every core. It prepares one PostgreSQL and one
 * migrated template for the whole run (test/helpers/suite-pg.ts), runs `bun test --parallel` — each
 * file in a fresh global of its own (Bun's --isolate), the slowest files (test/timings.json) first —
 * and stops the server after. One worker process more than the cores: about a third of the suite's
 * time is spent waiting (timers, outages, child processes), which the extra worker fills (2 cores:
 * 520 s with two workers, 420 s with three). Files never share rows (each clones the template)
 * and never depend on each other's order.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { SUITE_ENV, startSuitePostgres, TEST_TIMEOUT_MS } from "./helpers/suite-pg";

const args = process.argv.slice(2);
const has = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
const flags = [
  ...(has("--timeout") ? [] : [`--timeout=${TEST_TIMEOUT_MS}`]),
  ...(has("--parallel") ? [] : [`--parallel=${process.env.TEST_PARALLEL ?? availableParallelism() + 1}`]),
  ...(has("--timings") ? [] : [`--timings=${join(import.meta.dir, "timings.json")}`]),
];

const pg = await startSuitePostgres();
let code = 1;
try {
  const child = Bun.spawn([process.execPath, "test", ...flags, ...args], {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, [SUITE_ENV.url]: pg.adminUrl, [SUITE_ENV.template]: pg.template },
  });
  const stop = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGINT", stop("SIGINT"));
  process.on("SIGTERM", stop("SIGTERM"));
  code = (await child.exited) ?? 1;
} finally {
  await pg.stop();
}
process.exit(code);
