/**
 * Runs PhotoChanger as the operator does — `bun src/main.ts <command>` or a built binary — in its own
 * process with only the environment given (no inherited DATABASE_URL), from a scratch directory.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = join(import.meta.dir, "../..");
export const MAIN = join(REPO, "src/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...extra };
}

/** The command that runs the CLI from source. */
export function sourceCommand(): string[] {
  return [process.execPath, MAIN];
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
  options: { command?: string[]; cwd?: string } = {},
): Promise<CliResult> {
  const proc = Bun.spawn([...(options.command ?? sourceCommand()), ...args], {
    cwd: options.cwd ?? scratchDir(),
    env: baseEnv(env),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

let scratch: string | null = null;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), "photochanger-cwd-"));
  return scratch;
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** A server process whose JSON log lines can be awaited. */
export interface ServerProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  lines: string[];
  /** Resolves with the first log record whose `event` matches (already seen or future). */
  waitForEvent(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  output(): string;
}

export async function spawnServer(
  env: Record<string, string>,
  options: { command?: string[]; cwd?: string; port?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const proc = Bun.spawn([...(options.command ?? sourceCommand()), "serve"], {
    cwd: options.cwd ?? scratchDir(),
    env: baseEnv({ HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "info", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
      for (const w of [...waiters]) w();
    }
  })();
  void new Response(proc.stderr).text().then((t) => stderr.push(t));
  const find = (event: string) => {
    for (const l of lines) {
      try {
        const rec = JSON.parse(l) as Record<string, unknown>;
        if (rec.event === event) return rec;
      } catch {
        // not a log record (e.g. the first-start banner)
      }
    }
    return null;
  };
  const server: ServerProcess = {
    proc,
    url: `http://127.0.0.1:${port}`,
    lines,
    output: () => `${lines.join("\n")}\n${stderr.join("")}`,
    waitForEvent(event, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const rec = find(event);
          if (rec) {
            cleanup();
            resolve(rec);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no "${event}" log line within ${timeoutMs} ms; output:\n${server.output()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void proc.exited.then(() => setTimeout(check, 50));
        check();
      });
    },
  };
  await server.waitForEvent("server.listening", 30_000);
  return server;
}
