/**
 * An S3-compatible server for tests: s3rver (the S3 HTTP API over a directory) on a free
 * 127.0.0.1 port, with one bucket, standing in for AWS S3 / MinIO / R2. Bun's S3 client talks to it
 * over real HTTP with real SigV4 signatures (s3rver accepts its fixed S3RVER/S3RVER credentials).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export interface TestBucket {
  bucket: string;
  endpoint: string;
  /** The S3_* variables that point a PhotoChanger process at this bucket. */
  env: Record<string, string>;
  settings: {
    bucket: string;
    endpoint: string;
    accessKeyId: string;
    secretAccessKey: string;
    region: string;
  };
  /** A client for the test's own looks into the bucket. */
  client: Bun.S3Client;
  /** Every key in the bucket (all pages). */
  keys(prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** What both kinds of test bucket offer over an endpoint: the settings, the env, a client, its keys. */
function bucketHandle(bucket: string, endpoint: string): Omit<TestBucket, "stop"> {
  const settings = {
    bucket,
    endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    region: "us-east-1",
  };
  const client = new Bun.S3Client(settings);
  return {
    bucket,
    endpoint,
    settings,
    client,
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: settings.accessKeyId,
      S3_SECRET_ACCESS_KEY: settings.secretAccessKey,
      S3_REGION: settings.region,
    },
    async keys(prefix = "") {
      const out: string[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await client.list({ prefix, continuationToken });
        for (const o of page.contents ?? []) out.push(o.key);
        continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (continuationToken);
      return out.sort();
    },
  };
}

export async function startTestBucket(bucket = "photochanger-media"): Promise<TestBucket> {
  const directory = mkdtempSync(join(tmpdir(), "photochanger-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = (await server.run()) as { port: number };
  return {
    ...bucketHandle(bucket, `http://127.0.0.1:${port}`),
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A bucket whose server is a child process this test owns, on a fixed 127.0.0.1 port over a
 * directory that outlives it: `stop()` makes the bucket refuse connections (objects kept),
 * `start()` brings it back on the same port with the same objects, `freeze()`/`thaw()` stop and
 * continue the process (SIGSTOP/SIGCONT) so every call hangs, as with a hung bucket or a paused VM.
 */
export interface OwnedBucket extends TestBucket {
  start(): Promise<void>;
  /** The server is gone: connections are refused. */
  halt(): Promise<void>;
  freeze(): void;
  thaw(): void;
}

export async function startOwnedBucket(bucket = "photochanger-media"): Promise<OwnedBucket> {
  const directory = mkdtempSync(join(tmpdir(), "photochanger-s3rver-owned-"));
  let proc: Bun.Subprocess<"ignore", "pipe", "ignore"> | null = null;
  let port = 0;
  const running = () => {
    const p = proc as Bun.Subprocess | null;
    return !!p && p.exitCode === null && p.signalCode === null;
  };
  const launch = async () => {
    if (running()) return;
    proc = Bun.spawn(
      [process.execPath, join(import.meta.dir, "s3rver-child.ts"), String(port), directory, bucket],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "ignore",
      },
    );
    const reader = proc.stdout.getReader();
    let text = "";
    const deadline = Date.now() + 20_000;
    while (!text.includes("\n")) {
      if (Date.now() > deadline) throw new Error("s3rver child did not start");
      const { value, done } = await reader.read();
      if (done) throw new Error("s3rver child exited before it listened");
      text += new TextDecoder().decode(value);
    }
    // Keep reading so a chatty child never blocks on a full pipe.
    void (async () => {
      while (!(await reader.read().catch(() => ({ done: true }))).done) {}
    })();
    port = (JSON.parse(text.split("\n")[0]!) as { port: number }).port;
  };
  await launch();
  const halt = async () => {
    const p = proc as Bun.Subprocess | null;
    if (!p || !running()) return;
    p.kill("SIGCONT");
    p.kill("SIGKILL");
    await p.exited;
  };
  return {
    ...bucketHandle(bucket, `http://127.0.0.1:${port}`),
    start: launch,
    halt,
    freeze: () => (proc as Bun.Subprocess | null)?.kill("SIGSTOP"),
    thaw: () => (proc as Bun.Subprocess | null)?.kill("SIGCONT"),
    async stop() {
      await halt();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
