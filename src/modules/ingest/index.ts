/** POST /ingest/{slot_id} (and the /api/ingest alias): the booth's endpoint. */
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { clientAddress } from "../../lib/client";
import { AppError, errorResponse } from "../../lib/errors";
import { isDatabaseUnavailable } from "../../lib/http";
import { slotLabel } from "../../metrics";
import { UNCONFIRMED, waitForOutcome } from "../../queue/waiter";
import type { Services } from "../../services";
import { noteRefusal } from "../attention/refusals";
import { multipart, op } from "../openapi/docs";
import { outcomeReply, unconfirmedError } from "./outcome";
import {
  checkIngestPassword,
  clientMetadata,
  databaseUnavailable,
  enqueueUpload,
  guardDb,
  loadSlot,
  MB,
  readUpload,
  refuseIfThrottled,
  requireEnabledSlot,
  requireImage,
} from "./service";

/** Seconds beyond T_sync that Bun keeps the held connection open, so the deadline answer arrives. */
const HOLD_MARGIN_S = 15;

export const ingestModule = (rt: Services) => {
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
    const upload = await readUpload(request, slot.sizeLimitMb * MB);
    const password =
      stringField(upload.fields, "password") ?? new URL(request.url).searchParams.get("password");
    await checkIngestPassword(rt, password, clientIp);
    await requireImage(upload);
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
      clientMeta: clientMetadata(upload.fields),
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
    rt.heldRequests++;
    try {
      const final = await waitForOutcome(rt, job.id, job.expiresAt, request.signal);
      if (!final) {
        // The booth went away; the job runs on and its result is kept for the gallery.
        const closed = new AppError(499, "client_closed", "The client closed the connection");
        return { response: errorResponse(closed), outcome: closed.code };
      }
      if (final === UNCONFIRMED) {
        const late = unconfirmedError(job.id, job.expiresAt);
        return { response: errorResponse(late, { "X-Job-Id": job.id }), outcome: late.code };
      }
      return await outcomeReply(rt, final);
    } catch (err) {
      // Accepted work is never answered with a bare 500 for a fault: the booth gets its job id.
      if (!isDatabaseUnavailable(err)) throw err;
      const down = databaseUnavailable({ job_id: job.id });
      return { response: errorResponse(down, { "X-Job-Id": job.id }), outcome: down.code };
    } finally {
      rt.heldRequests--;
    }
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
      let refusal: AppError | null = err instanceof AppError ? err : null;
      if (!refusal && args.request.signal.aborted) {
        // The booth aborted its upload: nothing was accepted, nobody is there to answer.
        refusal = new AppError(499, "client_closed", "The client closed the connection");
      } else if (!refusal && isDatabaseUnavailable(err)) {
        refusal = databaseUnavailable();
      }
      if (!refusal) throw err;
      [outcome, status] = [refusal.code, refusal.status];
      return errorResponse(refusal);
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
