/**
 * A streaming multipart/form-data reader. `Request.formData()` holds the whole body in memory; an
 * upload endpoint that anyone on the network can reach must not. This reads the body chunk by
 * chunk, keeps text fields (bounded), and hands each file part's bytes to a sink the caller picks
 * when the part starts — so the caller can look at the fields that came before the file (the
 * password) and then keep the file in memory, spool it to disk, or discard it.
 */
import { decodeExtValue, parseHeaderParams } from "./header-params";

export class MultipartError extends Error {
  constructor(
    readonly kind: "malformed" | "too_large" | "fields_too_large" | "too_many_parts",
    message: string,
  ) {
    super(message);
    this.name = "MultipartError";
  }
}

export interface FilePartInfo {
  name: string;
  filename: string;
  contentType: string | null;
}

/** Where a file part's bytes go. `end` is awaited once the part is complete. */
export interface PartSink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

export interface StreamOptions {
  /** The whole body may not exceed this many bytes (counted as read, whatever Content-Length said). */
  limitBytes: number;
  /** All text fields together may not exceed this many bytes. */
  fieldBytesLimit: number;
  /** At most this many parts (text and file together); default MAX_PARTS. */
  maxParts?: number;
  /** Called at the start of each file part, with the text fields read so far. */
  onFile(info: FilePartInfo, fields: ReadonlyArray<[string, string]>): Promise<PartSink> | PartSink;
}

export interface StreamedForm {
  /** Text fields in arrival order. */
  fields: [string, string][];
  /** Total bytes of the body. */
  bytes: number;
}

const HEADER_LIMIT = 16 * 1024;
/**
 * A booth sends a dozen fields and one photo; browsers a few more. Hundreds of parts are no form
 * anyone fills in, and each costs a header parse and an array entry (200,000 empty fields fit in 9 MB).
 */
export const MAX_PARTS = 256;
/** RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
const BOUNDARY_MAX = 70;
const CRLF = Buffer.from("\r\n");
const HEADERS_END = Buffer.from("\r\n\r\n");

/** The boundary of a multipart/form-data Content-Type, or why the body cannot be read as one. */
export function multipartBoundary(contentType: string | null): { boundary: string } | { problem: string } {
  if (!contentType) return { problem: "no Content-Type" };
  const { type, params } = parseHeaderParams(contentType);
  if (type.toLowerCase() !== "multipart/form-data") return { problem: `the type is "${type}"` };
  const boundary = params.get("boundary");
  if (!boundary) return { problem: "no boundary parameter" };
  if (boundary.length > BOUNDARY_MAX) {
    return {
      problem: `the boundary is ${boundary.length} characters long, over the ${BOUNDARY_MAX} allowed`,
    };
  }
  return { boundary };
}

export const discardSink: PartSink = { write() {}, end() {} };

/** Reads the body of `request` as multipart with `boundary`; throws MultipartError on bad input. */
export async function readMultipartStream(
  body: ReadableStream<Uint8Array> | null,
  boundary: string,
  options: StreamOptions,
): Promise<StreamedForm> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fields: [string, string][] = [];
  let fieldBytes = 0;
  let total = 0;
  // The first delimiter may open the body without a CRLF before it: pretend there was one.
  let pending: Buffer = Buffer.from(CRLF);
  let state: "preamble" | "after-delimiter" | "headers" | "body" | "done" = "preamble";
  let sink: PartSink | null = null;
  let text: Buffer[] | null = null;
  let textName = "";
  let parts = 0;
  const maxParts = options.maxParts ?? MAX_PARTS;

  const startPart = async (headerBlock: string) => {
    if (++parts > maxParts) {
      throw new MultipartError("too_many_parts", `The form has more than ${maxParts} parts`);
    }
    const headers = unfold(headerBlock);
    const disposition = headerValue(headers, "content-disposition");
    const { type, params } = parseHeaderParams(disposition ?? "");
    if (type.toLowerCase() !== "form-data") {
      throw new MultipartError("malformed", "A part has no Content-Disposition: form-data header");
    }
    const name = params.get("name") ?? "";
    const filename = fileName(params);
    if (filename !== null) {
      text = null;
      sink = await options.onFile(
        { name, filename, contentType: headerValue(headers, "content-type") },
        fields,
      );
    } else {
      sink = null;
      text = [];
      textName = name;
    }
  };
  const partData = async (chunk: Buffer) => {
    if (chunk.length === 0) return;
    if (text) {
      fieldBytes += chunk.length;
      if (fieldBytes > options.fieldBytesLimit) {
        throw new MultipartError(
          "fields_too_large",
          `The text fields exceed ${options.fieldBytesLimit} bytes together`,
        );
      }
      text.push(chunk);
    } else if (sink) {
      await sink.write(chunk);
    }
  };
  const endPart = async () => {
    if (text) {
      fields.push([textName, Buffer.concat(text).toString("utf8")]);
      fieldBytes += textName.length;
      if (fieldBytes > options.fieldBytesLimit) {
        throw new MultipartError(
          "fields_too_large",
          `The text fields exceed ${options.fieldBytesLimit} bytes together`,
        );
      }
    } else if (sink) {
      await sink.end();
    }
    text = null;
    sink = null;
  };

  /** Consumes as much of `pending` as the current state allows. */
  const advance = async (): Promise<void> => {
    for (;;) {
      if (state === "done") {
        pending = Buffer.alloc(0);
        return;
      }
      if (state === "preamble") {
        const at = pending.indexOf(delimiter);
        if (at < 0) {
          if (pending.length > HEADER_LIMIT)
            throw new MultipartError("malformed", "No multipart boundary found");
          return;
        }
        pending = pending.subarray(at + delimiter.length);
        state = "after-delimiter";
        continue;
      }
      if (state === "after-delimiter") {
        if (pending.length < 2) return;
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = "done";
          continue;
        }
        const eol = pending.indexOf(CRLF);
        if (eol < 0) {
          if (pending.length > 256) throw new MultipartError("malformed", "Garbage after a boundary");
          return;
        }
        // Only transport padding (spaces, tabs) may sit between a boundary and its CRLF.
        if (!/^[ \t]*$/.test(pending.subarray(0, eol).toString("latin1"))) {
          throw new MultipartError("malformed", "Garbage after a boundary");
        }
        pending = pending.subarray(eol + 2);
        state = "headers";
        continue;
      }
      if (state === "headers") {
        // A part with no headers at all starts straight with the blank line.
        const end = pending.subarray(0, 2).equals(CRLF) ? -2 : pending.indexOf(HEADERS_END);
        if (end === -1 ? pending.length > HEADER_LIMIT : end > HEADER_LIMIT) {
          throw new MultipartError("malformed", `Part headers longer than ${HEADER_LIMIT} bytes`);
        }
        if (end === -1) return;
        const block = end === -2 ? "" : pending.subarray(0, end).toString("utf8");
        pending = pending.subarray(end === -2 ? 2 : end + 4);
        await startPart(block);
        state = "body";
        continue;
      }
      // body
      const at = pending.indexOf(delimiter);
      if (at >= 0) {
        await partData(pending.subarray(0, at));
        await endPart();
        pending = pending.subarray(at + delimiter.length);
        state = "after-delimiter";
        continue;
      }
      // Keep a tail that could be the start of a delimiter split across chunks.
      const keep = Math.min(pending.length, delimiter.length - 1);
      await partData(pending.subarray(0, pending.length - keep));
      pending = Buffer.from(pending.subarray(pending.length - keep));
      return;
    }
  };

  if (!body) throw new MultipartError("malformed", "The request has no body");
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > options.limitBytes) {
        throw new MultipartError("too_large", `The body is larger than ${options.limitBytes} bytes`);
      }
      pending = pending.length ? Buffer.concat([pending, value]) : Buffer.from(value);
      await advance();
    }
    if ((state as string) !== "done")
      throw new MultipartError("malformed", "The multipart body ends before its closing boundary");
    return { fields, bytes: total };
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** Obsolete line folding (a header continued on a line that starts with a space): one space instead. */
function unfold(block: string): string {
  return block.includes("\r\n ") || block.includes("\r\n\t") ? block.replace(/\r\n[ \t]+/g, " ") : block;
}

function headerValue(block: string, name: string): string | null {
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return null;
}

/**
 * RFC 6266 §4.3: `filename*` when it decodes, else `filename` (else `filename*` as sent: it is still
 * a file part); null when the part has neither, i.e. it is a text field.
 */
function fileName(params: Map<string, string>): string | null {
  const ext = params.get("filename*");
  if (ext === undefined) return params.get("filename") ?? null;
  return decodeExtValue(ext) ?? params.get("filename") ?? ext;
}
