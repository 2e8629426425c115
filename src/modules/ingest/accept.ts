/**
 * Accepting a photo and holding the request until its job is final — one path behind the booth's
 * endpoint, the test-run API and the slot page's test run: store the upload and queue the job
 * (`enqueueUpload`), raise the connection's idle timeout past the deadline, wait for the outcome.
 * `answerBooth` is the booth's whole exchange: the checks of SPEC §2 in order, the wait, the
 * answer, and one metric and one log line for every answer, refusals included.
 */
import type { JobRow } from "../../db/schema";
import { holdSeconds } from "../../domain/deadlines";
import { AppError, errorResponse } from "../../lib/errors";
import { isDatabaseUnavailable } from "../../lib/http";
import { slotLabel } from "../../metrics";
import { UNCONFIRMED, waitForOutcome } from "../../queue/waiter";
import type { Services } from "../../services";
import { noteRefusal } from "../attention/refusals";
import { outcomeReply, unconfirmedError } from "./outcome";
import {
  type AcceptedJob,
  databaseUnavailable,
  type EnqueueInput,
  enqueueUpload,
  forgetWrongPasswords,
  fromSlot,
  guardDb,
  loadSlot,
  MB,
  refuseIfThrottled,
  requireEnabledSlot,
  requireImage,
  routeByQuota,
} from "./service";
import { readBoothPhoto } from "./upload";

export interface AcceptInput extends EnqueueInput {
  /** Fires when the client goes away: the job runs on, nobody waits for it. */
  signal?: AbortSignal;
  /** Keeps the connection open this many seconds (Bun's idle timeout for this request). */
  hold?: (seconds: number) => void;
  /** Called once the job is queued, before the wait. */
  onAccepted?: (job: AcceptedJob) => void;
}

const STORED = new Uint8Array(0);

/** The job, and its final row — null when the client went away first. */
export interface Accepted {
  job: AcceptedJob;
  final: JobRow | null;
}

/**
 * Queues the upload and waits. Once the job is accepted, a database outage never becomes a bare
 * 500: the wait reads through it, and an outage that outlasts the deadline is the job's 504
 * (`sync_timeout` with its id); any other database error here is a 503 carrying the job id.
 */
export async function acceptAndWait(services: Services, input: AcceptInput): Promise<Accepted> {
  const job = await enqueueUpload(services, input);
  input.onAccepted?.(job);
  // The photo is stored: the held request lets go of its bytes (a thousand booths waiting would
  // otherwise keep a thousand photos in memory; the worker reads it from storage).
  input.upload.bytes = STORED;
  services.heldRequests++;
  try {
    // From the job's own deadline: no database call between acceptance and the wait.
    const leftSeconds = Math.max(
      0,
      Math.ceil((job.expiresAt.getTime() - services.clock.now().getTime()) / 1000),
    );
    input.hold?.(holdSeconds(leftSeconds));
    const final = await waitForOutcome(services, job.id, job.expiresAt, input.signal);
    if (final === UNCONFIRMED) throw unconfirmedError(job.id, job.expiresAt);
    return { job, final };
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw databaseUnavailable({ job_id: job.id });
    throw err;
  } finally {
    services.heldRequests--;
  }
}

/** The booth's address, and how to keep its connection open. */
export interface BoothClient {
  ip: string;
  hold?: (seconds: number) => void;
}

/** What the booth's exchange learnt before it answered or refused, for the metric and the log. */
interface Track {
  provider: string;
  jobId: string | null;
}

/** The booth's upload, answered: the image, or the one error envelope. */
export async function answerBooth(
  services: Services,
  slotId: string,
  request: Request,
  client: BoothClient,
): Promise<Response> {
  const started = performance.now();
  const track: Track = { provider: "none", jobId: null };
  let outcome = "internal_error";
  let status = 500;
  try {
    const reply = await boothExchange(services, slotId, request, client, track);
    outcome = reply.outcome;
    status = reply.response.status;
    return reply.response;
  } catch (err) {
    let refusal: AppError | null = err instanceof AppError ? err : null;
    if (!refusal && request.signal.aborted) {
      // The booth aborted its upload: nothing was accepted, nobody is there to answer.
      refusal = new AppError("client_closed", "The client closed the connection");
    } else if (!refusal && isDatabaseUnavailable(err)) {
      refusal = databaseUnavailable(track.jobId ? { job_id: track.jobId } : {});
    }
    if (!refusal) throw err;
    [outcome, status] = [refusal.code, refusal.status];
    return errorResponse(refusal, track.jobId ? { "X-Job-Id": track.jobId } : {});
  } finally {
    const seconds = (performance.now() - started) / 1000;
    services.metrics.ingestAnswered(
      { slot: slotLabel(slotId), provider: track.provider, outcome },
      track.jobId ? seconds : null,
    );
    if (!track.jobId && status >= 400) noteRefusal(services, slotId, outcome);
    services.log.info(track.jobId ? "ingest.answered" : "ingest.refused", {
      job_id: track.jobId ?? undefined,
      slot: slotId.slice(0, 64),
      provider: track.provider,
      outcome,
      status,
      duration_ms: Math.round(seconds * 1000),
      client_ip: client.ip,
    });
  }
}

async function boothExchange(
  services: Services,
  slotId: string,
  request: Request,
  client: BoothClient,
  track: Track,
): Promise<{ response: Response; outcome: string }> {
  const receivedAt = services.clock.now();
  if (services.draining) {
    throw new AppError(
      "service_unavailable",
      "The server is restarting; try again shortly",
      {},
      {
        "Retry-After": "5",
      },
    );
  }
  const slot = requireEnabledSlot(slotId, await loadSlot(services, slotId));
  track.provider = slot.provider;
  const wrongBefore = await refuseIfThrottled(services, client.ip);
  // Streamed: the photo is kept only once its password is right (see ./upload.ts).
  const upload = await readBoothPhoto(services, request, slot.sizeLimitMb * MB, client.ip);
  if (wrongBefore) await forgetWrongPasswords(services, client.ip);
  await requireImage(upload, {
    maxPixels: services.config.maxImagePixels,
    acceptsHeic: services.providers.get(slot.provider)?.spec.acceptsHeic ?? false,
    provider: slot.provider,
  });
  // The provider's quota for today is used up: the job starts on the slot's fallback, or — with
  // none that can take it — the answer comes now, so the booth prints the original.
  const startOnFallback = await guardDb(services.store, () =>
    routeByQuota(services, slot.provider, slot.fallback ?? null, upload.format),
  );
  const { job, final } = await acceptAndWait(services, {
    ...fromSlot(slot),
    source: "ingest",
    upload,
    startOnFallback,
    clientMeta: upload.clientMeta ?? {},
    clientHash: stringField(upload.fields, "hash_hex") ?? stringField(upload.fields, "hash"),
    clientIp: client.ip,
    createdBy: null,
    receivedAt,
    signal: request.signal,
    hold: client.hold,
    onAccepted: (job) => {
      track.jobId = job.id;
      services.log.info("ingest.accepted", {
        job_id: job.id,
        slot: slotId,
        bytes: upload.bytes.byteLength,
        client_ip: client.ip,
      });
      const gone = () => services.log.info("ingest.client_gone", { job_id: job.id, slot: slotId });
      // The booth may have hung up while the job was being queued: an abort listener added now
      // would never fire.
      if (request.signal.aborted) gone();
      else request.signal.addEventListener("abort", gone, { once: true });
    },
  });
  if (final) return outcomeReply(services, final);
  // The booth went away; the job runs on and its result is kept for the gallery.
  const closed = new AppError("client_closed", "The client closed the connection", { job_id: job.id });
  return { response: errorResponse(closed), outcome: closed.code };
}

function stringField(form: FormData, name: string): string | null {
  const v = form.get(name);
  return typeof v === "string" && v !== "" ? v : null;
}
