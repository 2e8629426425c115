/**
 * Reading a booth upload without trusting the sender: the body is streamed, never held whole
 * before the password is known. When the password arrives first (`?password=` or the form field
 * before the file part) it is checked before a single byte of the photo is kept: right → the photo
 * is read into memory, wrong → it is read and thrown away (so the refusal still follows the SPEC §2
 * order: size, then shape, then password). When the photo comes first it is spooled to a file
 * under the data dir and only read back once the password is right. Spool files are removed on
 * every path.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../lib/errors";
import {
  discardSink,
  type FilePartInfo,
  MAX_PARTS,
  MultipartError,
  multipartBoundary,
  type PartSink,
  readMultipartStream,
} from "../../lib/multipart";
import { isDiskFull } from "../../media/storage";
import type { Services } from "../../services";
import { clientMetadata, invalidPassword, type Upload, verifyIngestPassword } from "./service";

/** All text fields of one upload together (DSLR Remote Pro sends about a dozen short ones). */
export const FIELD_BYTES_LIMIT = 64 * 1024;
const SPOOL_STALE_MS = 3600_000;

export interface StreamedUpload {
  /** The image part's bytes, read only once the password was accepted (null otherwise). */
  bytes: Uint8Array | null;
  /** The image part's size, whether kept or not. */
  size: number;
  filename: string | null;
  fields: FormData;
  /** True when the password was decided before the photo arrived (the photo was never spooled). */
  decidedBeforeFile: boolean;
}

/** Answers "may the photo be kept?" for the password seen so far; memoised per password. */
export type PasswordGate = (password: string | null) => Promise<boolean>;

interface Candidate {
  info: FilePartInfo;
  size: number;
  chunks: Uint8Array[] | null;
  spool: string | null;
}

/** Removes spool files a crash left behind (older than an hour, so another instance's live ones stay). */
export function sweepSpool(dir: string, now = Date.now()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > SPOOL_STALE_MS) rmSync(path, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

export async function readBoothUpload(
  request: Request,
  options: {
    limitBytes: number;
    fileFields: string[];
    spoolDir: string;
    queryPassword: string | null;
    gate: PasswordGate;
    /** Called before a photo is spooled (its password not known yet); throws to refuse. */
    admitSpool: () => void;
  },
): Promise<StreamedUpload> {
  const tooLarge = () =>
    new AppError(
      "payload_too_large",
      `The upload is larger than this slot's limit of ${options.limitBytes} bytes`,
      { max_bytes: options.limitBytes },
    );
  const framing = multipartBoundary(request.headers.get("content-type"));
  if ("problem" in framing) {
    // Nothing is read: without a boundary there is no part to find.
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > options.limitBytes) throw tooLarge();
    throw new AppError("invalid_payload", `Expected a multipart/form-data body: ${framing.problem}`, {
      content_type: request.headers.get("content-type"),
    });
  }

  // The body's declared size, when within the limit: the photo part fits in it.
  const length = Number(request.headers.get("content-length") ?? "");
  const declared = Number.isSafeInteger(length) && length > 0 && length <= options.limitBytes ? length : 0;
  let image: Candidate | null = null;
  let named = false;
  let keep: boolean | null = null;
  const spools: string[] = [];
  const handles: Awaited<ReturnType<typeof open>>[] = [];

  const sinkFor = async (info: FilePartInfo, fields: ReadonlyArray<[string, string]>): Promise<PartSink> => {
    const isNamed = options.fileFields.includes(info.name);
    // The image is the first part named like an image field, else the first file part.
    if (image && (named || !isNamed)) return discardSink;
    if (image) dropCandidate(image);
    named = isNamed;
    if (keep === null) {
      const fieldPassword = firstValue(fields, "password");
      if (fieldPassword !== null || options.queryPassword !== null) {
        keep = await options.gate(fieldPassword ?? options.queryPassword);
      }
    }
    const candidate: Candidate = { info, size: 0, chunks: null, spool: null };
    image = candidate;
    if (keep === true) {
      candidate.chunks = [];
      // The photo is copied once, into one buffer the size of the body (which holds it), not chunk
      // by chunk and then joined: a held booth's upload leaves one copy to collect, not two. A body
      // larger than it said (or that said nothing) goes on in chunks.
      let into: Buffer | null = declared > 0 ? Buffer.allocUnsafe(declared) : null;
      return {
        write(chunk) {
          if (into && candidate.size + chunk.byteLength <= into.byteLength) {
            into.set(chunk, candidate.size);
          } else {
            if (into) candidate.chunks!.push(into.subarray(0, candidate.size));
            into = null;
            // A copy (the parser may reuse its buffer); `slice` copies in one memcpy.
            candidate.chunks!.push(chunk.slice());
          }
          candidate.size += chunk.byteLength;
        },
        end() {
          if (into) candidate.chunks!.push(into.subarray(0, candidate.size));
          into = null;
        },
      };
    }
    if (keep === false) {
      return {
        write(chunk) {
          candidate.size += chunk.byteLength;
        },
        end() {},
      };
    }
    options.admitSpool();
    const path = join(options.spoolDir, `${randomUUID()}.part`);
    candidate.spool = path;
    spools.push(path);
    const file = await open(path, "wx", 0o600);
    handles.push(file);
    return {
      async write(chunk) {
        candidate.size += chunk.byteLength;
        await file.write(chunk);
      },
      end() {},
    };
  };
  const dropCandidate = (c: Candidate) => {
    c.chunks = null;
  };

  try {
    let form: Awaited<ReturnType<typeof readMultipartStream>>;
    try {
      form = await readMultipartStream(request.body, framing.boundary, {
        limitBytes: options.limitBytes,
        fieldBytesLimit: FIELD_BYTES_LIMIT,
        onFile: sinkFor,
      });
    } catch (err) {
      if (err instanceof MultipartError) {
        if (err.kind === "too_large") throw tooLarge();
        if (err.kind === "fields_too_large") {
          throw new AppError("payload_too_large", err.message, { max_field_bytes: FIELD_BYTES_LIMIT });
        }
        if (err.kind === "too_many_parts") {
          throw new AppError("payload_too_large", err.message, { max_parts: MAX_PARTS });
        }
        throw new AppError("invalid_payload", `Malformed multipart body: ${err.message}`);
      }
      if (isDiskFull(err)) {
        throw new AppError("insufficient_storage", "The server's disk is full; the photo was not stored");
      }
      throw err;
    }
    const fields = new FormData();
    for (const [k, v] of form.fields) fields.append(k, v);
    const chosen = image as Candidate | null;
    if (!chosen) {
      throw new AppError("invalid_payload", `No image part: send the photo in "${options.fileFields[0]}"`, {
        field: options.fileFields[0],
      });
    }
    if (chosen.size === 0) {
      throw new AppError("invalid_payload", "The image part is empty", { field: options.fileFields[0] });
    }
    const decidedBeforeFile = keep !== null;
    let bytes: Uint8Array | null = null;
    if (chosen.chunks) bytes = chosen.chunks.length === 1 ? chosen.chunks[0]! : Buffer.concat(chosen.chunks);
    else if (chosen.spool && keep === null) {
      // The password came after the photo: decide now, and only then read the spool back.
      const password = firstValue(form.fields, "password") ?? options.queryPassword;
      if (await options.gate(password)) bytes = await Bun.file(chosen.spool).bytes();
      keep = bytes !== null;
    }
    return { bytes, size: chosen.size, filename: chosen.info.filename || null, fields, decidedBeforeFile };
  } finally {
    await Promise.all(handles.map((h) => h.close().catch(() => {})));
    await Promise.all(spools.map((p) => rm(p, { force: true })));
  }
}

/** Like FormData.get: the first field of that name (empty counts as absent). */
function firstValue(fields: ReadonlyArray<[string, string]>, name: string): string | null {
  for (const [k, v] of fields) if (k === name) return v === "" ? null : v;
  return null;
}

/**
 * Photos spooled before their password is known hold a file and a connection: at most this many
 * per address, and this many in all, so one client cannot fill the disk or the sockets. (A photo
 * whose password came first is never spooled: it is kept or discarded as it streams.)
 */
const ANONYMOUS_PER_ADDRESS = 6;
const ANONYMOUS_TOTAL = 32;
/**
 * An address that gave the right password this recently is a booth, not a stranger: its photos are
 * spooled without the anonymous limits (a rig of 8 cameras behind one address posts 8 at once).
 */
const KNOWN_BOOTH_MS = 24 * 3600_000;
/** Known booths remembered at most (the oldest is forgotten first). */
const KNOWN_BOOTHS_MAX = 1024;
const FILE_FIELDS = ["fileToUpload", "file"];

interface SpoolState {
  dir: string;
  byAddress: Map<string, number>;
  total: number;
  /** Address → when it last gave the right password (the app clock, ms), oldest first. */
  knownBooths: Map<string, number>;
}

function rememberBooth(state: SpoolState, address: string, now: Date): void {
  state.knownBooths.delete(address);
  state.knownBooths.set(address, now.getTime());
  if (state.knownBooths.size > KNOWN_BOOTHS_MAX) {
    state.knownBooths.delete(state.knownBooths.keys().next().value as string);
  }
}

function isKnownBooth(state: SpoolState, address: string, now: Date): boolean {
  const at = state.knownBooths.get(address);
  return at !== undefined && now.getTime() - at < KNOWN_BOOTH_MS;
}

/** Per server (the services object): its spool directory and who holds spool slots now. */
const spoolStates = new WeakMap<object, SpoolState>();

function spoolState(services: Pick<Services, "config">): SpoolState {
  let state = spoolStates.get(services);
  if (!state) {
    state = {
      dir: join(services.config.dataDir, "spool"),
      byAddress: new Map(),
      total: 0,
      knownBooths: new Map(),
    };
    sweepSpool(state.dir);
    spoolStates.set(services, state);
  }
  return state;
}

export type BoothDeps = Pick<Services, "config" | "store" | "settings" | "clock" | "log" | "instanceId">;

/**
 * The booth's photo, read from the stream with its password checked (SPEC §2 order from the size
 * limit on: 413, then 400, then 401). Returns the upload only when the password is right.
 */
export async function readBoothPhoto(
  services: BoothDeps,
  request: Request,
  limitBytes: number,
  clientIp: string,
): Promise<Upload> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limitBytes) {
    throw new AppError(
      "payload_too_large",
      `The upload is larger than this slot's limit of ${limitBytes} bytes`,
      {
        max_bytes: limitBytes,
      },
    );
  }
  const state = spoolState(services);
  let holdsSpool = false;
  const releaseSpool = () => {
    if (!holdsSpool) return;
    holdsSpool = false;
    state.total--;
    const n = (state.byAddress.get(clientIp) ?? 1) - 1;
    if (n > 0) state.byAddress.set(clientIp, n);
    else state.byAddress.delete(clientIp);
  };
  const admitSpool = () => {
    if (holdsSpool || isKnownBooth(state, clientIp, services.clock.now())) return;
    if ((state.byAddress.get(clientIp) ?? 0) >= ANONYMOUS_PER_ADDRESS || state.total >= ANONYMOUS_TOTAL) {
      throw new AppError(
        "too_many_requests",
        "Too many uploads whose password is not checked yet are in progress; send the password " +
          "before the photo, or try again shortly",
        { retry_after_seconds: 5 },
        { "Retry-After": "5" },
      );
    }
    state.byAddress.set(clientIp, (state.byAddress.get(clientIp) ?? 0) + 1);
    state.total++;
    holdsSpool = true;
  };
  try {
    const verdicts = new Map<string | null, boolean>();
    const gate = async (password: string | null) => {
      let ok = verdicts.get(password);
      if (ok === undefined) {
        ok = await verifyIngestPassword(services, password, clientIp);
        verdicts.set(password, ok);
      }
      if (ok) {
        releaseSpool();
        rememberBooth(state, clientIp, services.clock.now());
      }
      return ok;
    };
    const read = await readBoothUpload(request, {
      limitBytes,
      fileFields: FILE_FIELDS,
      spoolDir: state.dir,
      queryPassword: new URL(request.url).searchParams.get("password") || null,
      gate,
      admitSpool,
    });
    // SPEC §2 order: the payload's shape (and its metadata) before the password verdict.
    const clientMeta = clientMetadata(read.fields, new URL(request.url).searchParams);
    if (!read.bytes) throw invalidPassword();
    return { bytes: read.bytes, format: "jpeg", filename: read.filename, fields: read.fields, clientMeta };
  } finally {
    releaseSpool();
  }
}
