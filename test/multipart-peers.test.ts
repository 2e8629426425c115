/**
 * The streaming multipart reader held against busboy's and remix's own test vectors (and ours),
 * each body read whole, as the peer's test writes it, byte by byte, and in seeded random pieces:
 * the framing must not depend on where a chunk ends. A vector's `ours` says where PhotoChanger
 * gives another answer than the peer on purpose; the comment beside it says why.
 */
import { describe, expect, test } from "bun:test";
import { MultipartError, multipartBoundary, readMultipartStream } from "../src/lib/multipart";
import { FIELD_BYTES_LIMIT } from "../src/modules/ingest/upload";
import { BUSBOY_VECTORS } from "./fixtures/multipart/busboy";
import { OUR_BOUNDARY_VECTORS, OUR_VECTORS } from "./fixtures/multipart/ours";
import { REMIX_BOUNDARY_VECTORS, REMIX_FILENAME_VECTORS, REMIX_VECTORS } from "./fixtures/multipart/remix";
import { lines, type Outcome, type Part, type Vector } from "./fixtures/multipart/vector";
import { seededRandom } from "./helpers/random";

type Chunking = { name: string; split(body: Uint8Array, written: Uint8Array[]): Uint8Array[] };

function randomPieces(seed: number, max: number): Chunking {
  return {
    name: `random pieces of 1–${max} bytes (seed ${seed})`,
    split(body) {
      const next = seededRandom(seed);
      const out: Uint8Array[] = [];
      for (let at = 0; at < body.length; ) {
        const size = 1 + Math.floor(next() * max);
        out.push(body.subarray(at, at + size));
        at += size;
      }
      return out;
    },
  };
}

const CHUNKINGS: Chunking[] = [
  { name: "whole", split: (body) => [body] },
  { name: "as the peer's test writes it", split: (_, written) => written },
  {
    name: "byte by byte",
    split: (body) => Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1)),
  },
  randomPieces(1, 16),
  randomPieces(2, 700),
  randomPieces(3, 9000),
];

const bytes = (s: string | Uint8Array) => (typeof s === "string" ? new TextEncoder().encode(s) : s);

/** What the reader makes of `chunks`, in the vectors' terms (fields and files in arrival order). */
async function read(vector: Vector, chunks: Uint8Array[] | null): Promise<Outcome> {
  const parts: Part[] = [];
  let fieldsSeen = 0;
  const takeFields = (fields: ReadonlyArray<[string, string]>) => {
    for (; fieldsSeen < fields.length; fieldsSeen++) {
      const [name, value] = fields[fieldsSeen]!;
      parts.push({ field: name, value });
    }
  };
  const queue = chunks ? [...chunks] : [];
  const stream =
    chunks === null
      ? null
      : new ReadableStream<Uint8Array>({
          pull(controller) {
            const next = queue.shift();
            if (next) controller.enqueue(next);
            else controller.close();
          },
        });
  try {
    const form = await readMultipartStream(stream, vector.boundary, {
      limitBytes: vector.options?.limitBytes ?? 1 << 24,
      fieldBytesLimit: vector.options?.fieldBytesLimit ?? FIELD_BYTES_LIMIT,
      maxParts: vector.options?.maxParts,
      onFile(info, fields) {
        takeFields(fields);
        const received: Uint8Array[] = [];
        const part: Part = {
          file: info.name,
          filename: info.filename,
          // The media type: busboy and remix report it without its parameters.
          type: info.contentType?.split(";")[0]?.trim() || null,
          data: "",
        };
        parts.push(part);
        return {
          write(chunk) {
            received.push(chunk.slice());
          },
          end() {
            part.data = Buffer.concat(received);
          },
        };
      },
    });
    takeFields(form.fields);
    return comparable(parts);
  } catch (err) {
    if (err instanceof MultipartError) return { error: err.kind };
    throw err;
  }
}

/** File data as one string of bytes, so that a string and a byte array of the same bytes compare equal. */
function comparable(outcome: Outcome): Outcome {
  if (!Array.isArray(outcome)) return outcome;
  return outcome.map((p) =>
    "file" in p ? { ...p, data: Buffer.from(bytes(p.data)).toString("latin1") } : p,
  );
}

function expected(vector: { peer?: Outcome; ours?: Outcome }): Outcome {
  const outcome = vector.ours ?? vector.peer;
  if (!outcome) throw new Error("a vector needs a peer or an ours");
  return comparable(outcome);
}

async function checkEveryChunking(vector: Vector) {
  const written = vector.body?.map(bytes) ?? null;
  const body = written ? Buffer.concat(written) : null;
  const want = expected(vector);
  for (const chunking of CHUNKINGS) {
    const got = await read(vector, body && written ? chunking.split(body, written) : null);
    // The chunking in the message says which one failed.
    expect({ chunking: chunking.name, outcome: got }).toEqual({ chunking: chunking.name, outcome: want });
  }
}

describe("busboy's vectors", () => {
  test.each(BUSBOY_VECTORS.map((v) => [v.what, v] as const))("%s", async (_, vector) => {
    await checkEveryChunking(vector);
  });
});

describe("remix's vectors", () => {
  test.each(REMIX_VECTORS.map((v) => [v.what, v] as const))("%s", async (_, vector) => {
    await checkEveryChunking(vector);
  });

  test.each(REMIX_FILENAME_VECTORS.map((v) => [v.what, v] as const))("file name: %s", async (_, v) => {
    const boundary = "x-boundary";
    const want = v.ours !== undefined ? v.ours : v.peer;
    await checkEveryChunking({
      what: v.what,
      boundary,
      body: [
        lines(
          `--${boundary}`,
          `Content-Disposition: form-data; name=f; ${v.params}`,
          "",
          "x",
          `--${boundary}--`,
        ),
      ],
      ours:
        want === null ? [{ field: "f", value: "x" }] : [{ file: "f", filename: want, type: null, data: "x" }],
    });
  });
});

describe("our own vectors", () => {
  test.each(OUR_VECTORS.map((v) => [v.what, v] as const))("%s", async (_, vector) => {
    await checkEveryChunking(vector);
  });
});

describe("the boundary from Content-Type", () => {
  test.each([...REMIX_BOUNDARY_VECTORS, ...OUR_BOUNDARY_VECTORS].map((v) => [v.what, v] as const))(
    "%s",
    (_, v) => {
      const found = multipartBoundary(v.contentType);
      const want = v.ours !== undefined ? v.ours : v.peer;
      expect("boundary" in found ? found.boundary : null).toBe(want ?? null);
      // A refusal names its reason (the 400's message carries it).
      if (!("boundary" in found)) expect(found.problem.length).toBeGreaterThan(0);
    },
  );
});
