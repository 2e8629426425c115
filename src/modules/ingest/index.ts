/** POST /ingest/{slot_id} (and the /api/ingest alias): the booth's endpoint. */

import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { clientAddress } from "../../lib/client";
import { AppError, errorResponse } from "../../lib/errors";
import { slotLabel } from "../../metrics";
import { waitForOutcome } from "../../queue/waiter";
import type { Services } from "../../services";
import { noteRefusal } from "../attention/refusals";
import { multipart, op } from "../openapi/docs";
import { outcomeReply } from "./outcome";
import {
  clientMetadata,
  enqueueUpload,
  guardDb,
  invalidPassword,
  loadSlot,
  MB,
  refuseIfThrottled,
  requireEnabledSlot,
  requireImage,
  type Upload,
  verifyIngestPassword,
} from "./service";
import { readBoothUpload, sweepSpool } from "./upload";

/** Seconds beyond T_sync that Bun keeps the held connection open, so the deadline answer arrives. */
const HOLD_MARGIN_S = 15;

/**
 * Photos spooled before their password is known hold a file and a connection: at most this many
 * per address, and this many in all, so one client cannot fill the disk or the sockets. (A photo
 * whose password came first is never spooled: it is kept or discarded as it streams.)
 */
const ANONYMOUS_PER_ADDRESS = 6;
const ANONYMOUS_TOTAL = 32;
const FILE_FIELDS = ["fileToUpload", "file"];

export const ingestModule = (rt: Services) => {
  const spoolDir = join(rt.config.dataDir, "spool");
  sweepSpool(spoolDir);
  const anonymous = new Map<string, number>();
  let anonymousTotal = 0;
  const handle = async ({ request, params, server }: HandlerArgs, track: IngestTrack) => {
    const slotId = params.slotId;
    const clientIp = clientAddress(server, request);
    track.clientIp = clientIp;
    if (rt.draining) {
      throw new AppError(
        503,
        "service_unavailable",
        "The server is restarting; try again shortly",
        {},
        {
          "Retry-After": "5",
        },
      );
    }
    const slot = requireEnabledSlot(slotId, await loadSlot(rt, slotId));
    track.provider = slot.provider;
    await refuseIfThrottled(rt, clientIp);
    const limitBytes = slot.sizeLimitMb * MB;
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > limitBytes) {
      throw new AppError(
        413,
        "payload_too_large",
        `The upload is larger than this slot's limit of ${limitBytes} bytes`,
        {
          max_bytes: limitBytes,
        },
      );
    }
    // A photo spooled before its password is known counts as anonymous (ANONYMOUS_PER_ADDRESS)
    // until the password is right or the request ends.
    let holdsAnonymous = false;
    const releaseAnonymous = () => {
      if (!holdsAnonymous) return;
      holdsAnonymous = false;
      anonymousTotal--;
      const n = (anonymous.get(clientIp) ?? 1) - 1;
      if (n > 0) anonymous.set(clientIp, n);
      else anonymous.delete(clientIp);
    };
    const admitSpool = () => {
      if (holdsAnonymous) return;
      if ((anonymous.get(clientIp) ?? 0) >= ANONYMOUS_PER_ADDRESS || anonymousTotal >= ANONYMOUS_TOTAL) {
        throw new AppError(
          429,
          "too_many_requests",
          "Too many uploads whose password is not checked yet are in progress; send the password " +
            "before the photo, or try again shortly",
          { retry_after_seconds: 5 },
          { "Retry-After": "5" },
        );
      }
      anonymous.set(clientIp, (anonymous.get(clientIp) ?? 0) + 1);
      anonymousTotal++;
      holdsAnonymous = true;
    };
    let upload: Upload;
    try {
      const verdicts = new Map<string | null, boolean>();
      const gate = async (password: string | null) => {
        let ok = verdicts.get(password);
        if (ok === undefined) {
          ok = await verifyIngestPassword(rt, password, clientIp);
          verdicts.set(password, ok);
        }
        if (ok) releaseAnonymous();
        return ok;
      };
      const read = await readBoothUpload(request, {
        limitBytes,
        fileFields: FILE_FIELDS,
        spoolDir,
        queryPassword: new URL(request.url).searchParams.get("password") || null,
        gate,
        admitSpool,
      });
      // SPEC §2 order: the payload's shape (and its metadata) before the password verdict.
      const clientMeta = clientMetadata(read.fields);
      if (!read.bytes) throw invalidPassword();
      upload = {
        bytes: read.bytes,
        format: "jpeg",
        filename: read.filename,
        fields: read.fields,
        clientMeta,
      };
    } finally {
      releaseAnonymous();
    }
    const provider = rt.providers.get(slot.provider);
    await requireImage(upload, {
      maxPixels: rt.config.maxImagePixels,
      acceptsHeic: provider?.spec.acceptsHeic ?? false,
      provider: slot.provider,
    });
    // The provider's quota for today is used up: answer now, so the booth prints the original.
    await guardDb(() => rt.quota.refuseIfExhausted(slot.provider));
    const job = await enqueueUpload(rt, {
      slot,
      source: "ingest",
      upload,
      provider: slot.provider,
      operation: slot.operation,
      settings: slot.settings,
      outputFormat: slot.outputFormat,
      clientMeta: upload.clientMeta ?? {},
      clientHash: stringField(upload.fields, "hash_hex") ?? stringField(upload.fields, "hash"),
      clientIp,
      createdBy: null,
    });
    track.jobId = job.id;
    const settings = await rt.settings.current();
    server?.timeout(request, settings.syncResponseSeconds + HOLD_MARGIN_S);
    rt.log.info("ingest.accepted", {
      job_id: job.id,
      slot: slotId,
      bytes: upload.bytes.byteLength,
      client_ip: clientIp,
    });
    request.signal.addEventListener(
      "abort",
      () => rt.log.info("ingest.client_gone", { job_id: job.id, slot: slotId }),
      {
        once: true,
      },
    );
    const final = await waitForOutcome(rt, job.id, job.expiresAt, request.signal);
    if (!final) {
      // The booth went away; the job runs on and its result is kept for the gallery.
      const closed = new AppError(499, "client_closed", "The client closed the connection");
      return { response: errorResponse(closed), outcome: closed.code };
    }
    return outcomeReply(rt, final);
  };

  /** Every answer, refusals included, is counted and logged once with its outcome. */
  const counted = async (args: HandlerArgs): Promise<Response> => {
    const started = performance.now();
    const track: IngestTrack = { provider: "none", jobId: null, clientIp: null };
    let outcome = "internal_error";
    let status = 500;
    try {
      const reply = await handle(args, track);
      outcome = reply.outcome;
      status = reply.response.status;
      return reply.response;
    } catch (err) {
      if (err instanceof AppError) [outcome, status] = [err.code, err.status];
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const slot = slotLabel(args.params.slotId);
      rt.metrics.ingestAnswered({ slot, provider: track.provider, outcome }, track.jobId ? seconds : null);
      if (!track.jobId && status >= 400) noteRefusal(rt, args.params.slotId, outcome);
      rt.log.info(track.jobId ? "ingest.answered" : "ingest.refused", {
        job_id: track.jobId ?? undefined,
        slot: args.params.slotId.slice(0, 64),
        provider: track.provider,
        outcome,
        status,
        duration_ms: Math.round(seconds * 1000),
        client_ip: track.clientIp ?? undefined,
      });
    }
  };
  return new Elysia({ name: "ingest" })
    .post("/ingest/:slotId", counted, {
      parse: "none",
      detail: ingestDoc("The booth's upload (DSLR Remote Pro)"),
    })
    .post("/api/ingest/:slotId", counted, {
      parse: "none",
      detail: ingestDoc("Alias of POST /ingest/{slot_id} for booths set up for the earlier build"),
    });
};

function ingestDoc(summary: string) {
  return op({
    tag: "ingest",
    summary,
    description:
      "Holds the request until the processed image is ready or T_sync_response passes. The image goes in " +
      "`fileToUpload` (alias `file`, else the first file part), the password in `password` (or `?password=`); " +
      "every other text field is kept as the job's client metadata. Answers 200 with the image bytes " +
      "(X-Job-Id, Content-Disposition) or the error envelope.",
    body: {
      contentType: "multipart/form-data",
      schema: multipart(
        "fileToUpload",
        {
          password: Type.String(),
          hash: Type.String({ description: "Advisory; recorded, never required to match" }),
          time: Type.String(),
          user_id: Type.String(),
        },
        "JPEG, PNG, WebP or HEIC (decided by magic bytes)",
      ),
    },
    parameters: [
      { name: "slotId", in: "path", required: true, schema: { type: "string", example: "slot-001" } },
    ],
    ok: { description: "The processed image", contentType: "image/*" },
    errors: [400, 401, 404, 413, 415, 422, 429, 500, 502, 503, 504, 507],
  });
}

/** What the handler learnt before it answered or refused, for the metrics and the log. */
interface IngestTrack {
  provider: string;
  jobId: string | null;
  clientIp: string | null;
}

interface HandlerArgs {
  request: Request;
  params: { slotId: string };
  server: import("elysia/universal").Server | null;
}

function stringField(form: FormData, name: string): string | null {
  const v = form.get(name);
  return typeof v === "string" && v !== "" ? v : null;
}
