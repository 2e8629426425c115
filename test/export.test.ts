/**
 * An event's results in one download (SPEC §11): the streaming ZIP writer checked by `unzip` and
 * Python's zipfile, and `GET /api/slots/{id}/export` with local and S3 media — the archive opens,
 * its files are the stored results byte for byte (their sha256), and `index.csv` lists every
 * finished job with the booth's fields.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZipWriter } from "../src/lib/zip";
import { api, changeScopes, login } from "./helpers/admin";
import { dslrFields, dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { seedPastJobs } from "./helpers/past-jobs";
import { startTestBucket, type TestBucket } from "./helpers/s3";

const dir = mkdtempSync(join(tmpdir(), "photochanger-export-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}

/** Runs a command; its stdout, or the test fails with its stderr. */
function run(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

function saveZip(bytes: Uint8Array, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The archive's members and their bytes, read by Python's zipfile (which checks every CRC). */
function pythonRead(path: string): Record<string, string> {
  const script =
    "import sys,zipfile,json,base64\n" +
    "z=zipfile.ZipFile(sys.argv[1])\n" +
    "assert z.testzip() is None\n" +
    "print(json.dumps({i.filename: base64.b64encode(z.read(i)).decode() for i in z.infolist()}))";
  return JSON.parse(run(["python3", "-c", script, path])) as Record<string, string>;
}

describe("the ZIP writer", () => {
  test("stored entries with data descriptors open in unzip and Python, CRCs and UTF-8 names intact", async () => {
    const zip = new ZipWriter();
    const when = new Date(2026, 11, 8, 21, 30, 14);
    const bytes = await collect(
      (async function* () {
        yield* zip.file("a.txt", when, chunks("hello ", "world"));
        yield* zip.file("фото/снимок.txt", when, chunks("Анна"));
        yield* zip.file("empty.bin", when, chunks());
        yield* zip.finish();
      })(),
    );
    expect(zip.bytesWritten).toBe(bytes.byteLength);
    const path = saveZip(bytes, "unit.zip");
    expect(run(["unzip", "-t", path])).toContain("No errors detected");
    expect(run(["unzip", "-p", path, "a.txt"])).toBe("hello world");
    const listing = run(["unzip", "-l", path]);
    expect(listing).toContain("2026-12-08 21:30");
    const members = pythonRead(path);
    expect(Object.keys(members)).toEqual(["a.txt", "фото/снимок.txt", "empty.bin"]);
    expect(Buffer.from(members["фото/снимок.txt"]!, "base64").toString()).toBe("Анна");
    expect(members["empty.bin"]).toBe("");
  });

  test("names that would escape the archive, or repeat, are refused", async () => {
    const zip = new ZipWriter();
    for (const bad of ["/etc/passwd", "../x", "a/../../x", "a\\b", ""]) {
      await expect(collect(zip.file(bad, new Date(), chunks("x")))).rejects.toThrow();
    }
    await collect(zip.file("same", new Date(), chunks("x")));
    await expect(collect(zip.file("same", new Date(), chunks("y")))).rejects.toThrow("already");
  });

  test("past 65,535 entries the ZIP64 end records take over", async () => {
    const zip = new ZipWriter();
    const n = 65_540;
    const bytes = await collect(
      (async function* () {
        for (let i = 0; i < n; i++) yield* zip.file(`f${i}`, new Date(), chunks(i % 1000 ? "" : "k"));
        yield* zip.finish();
      })(),
    );
    const path = saveZip(bytes, "zip64.zip");
    const count = run([
      "python3",
      "-c",
      "import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;print(len(z.infolist()),z.read('f65000').decode())",
      path,
    ]);
    expect(count.trim()).toBe(`${n} k`);
  });
});

describe("GET /api/slots/{id}/export", () => {
  let app: TestApp;
  let serg: ReturnType<typeof api>;
  let photo: Uint8Array;
  const ids: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    photo = await makeJpeg(320, 240);
    await app.configureSlot("slot-003", { provider: "local", operation: "greyscale" });
    serg = api(app, await login(app, "serg"));
    for (const guest of ["Анна", "=cmd|' /C calc'!A0", 'Bob, "the" builder']) {
      const res = await fetch(`${app.url}/ingest/slot-003?theme=gold`, {
        method: "POST",
        body: dslrForm(photo, dslrFields({ guest })),
      });
      expect(res.status).toBe(200);
      ids.push(res.headers.get("x-job-id")!);
    }
    await seedPastJobs(app, [
      {
        slotId: "slot-003",
        status: "failed",
        failureReason: "provider_error",
        createdAt: new Date(Date.now() - 60_000),
      },
    ]);
  });
  afterAll(() => app.stop());

  test("streams a ZIP of the kept results with an index.csv; files match the stored sha256", async () => {
    const res = await serg("GET", "/api/slots/slot-003/export");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="slot-003-results-.*\.zip"$/,
    );
    const path = saveZip(new Uint8Array(await res.arrayBuffer()), "local.zip");
    expect(run(["unzip", "-t", path])).toContain("No errors detected");
    const members = pythonRead(path);
    const results = Object.keys(members).filter((n) => n.startsWith("results/"));
    expect(results).toHaveLength(3);
    for (const id of ids) {
      const job = (await app.runtime.store.jobs.getJob(id))!;
      const name = results.find((n) => n.includes(id))!;
      expect(name).toMatch(/^results\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ_[0-9a-f-]{36}\.jpg$/);
      expect(sha256(Buffer.from(members[name]!, "base64"))).toBe(job.resultSha256!);
    }

    const csv = run(["unzip", "-p", path, "index.csv"]).replace(/^\uFEFF/, "");
    const lines = csv.trimEnd().split("\r\n");
    const header = lines[0]!.split(",");
    expect(header.slice(0, 9)).toEqual([
      "job_id",
      "created_at",
      "finalized_at",
      "status",
      "failure_reason",
      "source",
      "provider",
      "file",
      "sha256",
    ]);
    // the booth's fields (and the URL's query parameters) as columns, in name order
    expect(header).toEqual(expect.arrayContaining(["guest", "theme", "user_id"]));
    expect(lines).toHaveLength(1 + 4); // three successes and the failure
    const failed = lines.find((l) => l.includes(",failed,"))!;
    expect(failed).toContain(",provider_error,");
    expect(failed.split(",")[header.indexOf("file")]).toBe("");
    expect(csv).toContain("Анна");
    // a guest's text is never a spreadsheet formula; separators are quoted
    expect(csv).toContain(",'=cmd|' /C calc'!A0,");
    expect(csv).toContain(`"Bob, ""the"" builder"`);
  });

  test("from/to narrow the range; a bad range or slot is a clear error", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const empty = await serg("GET", `/api/slots/slot-003/export?from=${future}`);
    expect(empty.status).toBe(200);
    expect(empty.headers.get("x-export-files")).toBe("0");
    const members = pythonRead(saveZip(new Uint8Array(await empty.arrayBuffer()), "empty.zip"));
    expect(Object.keys(members)).toEqual(["index.csv"]);

    const bad = await serg("GET", "/api/slots/slot-003/export?from=yesterday");
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe("invalid_request");
    const reversed = await serg("GET", `/api/slots/slot-003/export?from=${future}&to=2020-01-01`);
    expect(reversed.status).toBe(400);
    const unknown = await serg("GET", "/api/slots/slot-099/export");
    expect(unknown.status).toBe(404);
  });

  test("needs stats:read; the slot page and the gallery offer the download", async () => {
    expect((await fetch(`${app.url}/api/slots/slot-003/export`)).status).toBe(401);
    await changeScopes(app, "igor", { remove: ["stats:read"] });
    const igor = api(app, await login(app, "igor"));
    expect((await igor("GET", "/api/slots/slot-003/export")).status).toBe(403);

    const { cookie } = await login(app, "serg");
    for (const page of ["/slots/slot-003", "/gallery"]) {
      const html = await (await fetch(`${app.url}${page}`, { headers: { cookie } })).text();
      expect(html).toContain('href="/api/slots/slot-003/export"');
    }
    // the link works with the page's session cookie
    const viaCookie = await fetch(`${app.url}/api/slots/slot-003/export`, { headers: { cookie } });
    expect(viaCookie.status).toBe(200);
    await viaCookie.arrayBuffer();
  });
});

describe("export with S3 media", () => {
  let bucket: TestBucket;
  let app: TestApp;

  beforeAll(async () => {
    bucket = await startTestBucket("export-media");
    app = await startTestApp({ env: bucket.env });
    await app.configureSlot("slot-001", { provider: "local", operation: "greyscale" });
  });
  afterAll(async () => {
    await app.stop();
    await bucket.stop();
  });

  test("each result is streamed from the bucket into the archive", async () => {
    const ids: string[] = [];
    for (const size of [200, 300]) {
      const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg(size, size)));
      expect(res.status).toBe(200);
      ids.push(res.headers.get("x-job-id")!);
    }
    expect((await bucket.keys("results/")).length).toBeGreaterThanOrEqual(2);
    const serg = api(app, await login(app, "serg"));
    const res = await serg("GET", "/api/slots/slot-001/export");
    expect(res.status).toBe(200);
    const members = pythonRead(saveZip(new Uint8Array(await res.arrayBuffer()), "s3.zip"));
    for (const id of ids) {
      const job = (await app.runtime.store.jobs.getJob(id))!;
      const name = Object.keys(members).find((n) => n.includes(id))!;
      expect(sha256(Buffer.from(members[name]!, "base64"))).toBe(job.resultSha256!);
    }
  });
});
