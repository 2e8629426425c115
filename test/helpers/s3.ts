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
  const endpoint = `http://127.0.0.1:${port}`;
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
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
