/** Unauthenticated downloads: results and thumbnails by job id, temporary media objects by id. */
import { Elysia } from "elysia";
import { AppError } from "../../lib/errors";
import { contentDisposition } from "../../lib/http";
import type { Services } from "../../services";
import { resultFilename } from "../ingest/outcome";
import { op } from "../openapi/docs";
import { expiryHeaders, findServableResult, thumbnailOf } from "./service";

export const publicModule = (services: Services) =>
  new Elysia({ name: "public" })
    .get(
      "/public/results/:jobId",
      async ({ params, query }) => {
        const job = await findServableResult(services, params.jobId);
        const body = await services.media.body(job.resultPath!);
        // Removed between the check and now (the cleaner): as expired as the check would have said.
        if (!body) throw new AppError("result_expired", "This result is no longer kept", { job_id: job.id });
        const kind = query.download ? "attachment" : "inline";
        return new Response(body, {
          headers: {
            "Content-Type": job.resultMime ?? "application/octet-stream",
            "Content-Disposition": contentDisposition(kind, resultFilename(job)),
            "X-Content-Type-Options": "nosniff",
            ...expiryHeaders(job.resultExpiresAt, services.clock.now()),
          },
        });
      },
      {
        detail: op({
          tag: "public",
          summary: "A result image by job id (the public link)",
          description:
            "`?download=1` answers with `Content-Disposition: attachment`. Cached until the link expires.",
          parameters: [{ name: "download", in: "query", required: false, schema: { type: "string" } }],
          ok: { description: "The image", contentType: "image/*" },
          errors: [404, 410],
        }),
      },
    )
    .get(
      "/public/results/:jobId/thumb",
      async ({ params }) => {
        const job = await findServableResult(services, params.jobId);
        const thumbPath = await thumbnailOf(services, job);
        const body = thumbPath ? await services.media.body(thumbPath) : null;
        if (!body) {
          throw new AppError("thumbnail_not_found", "This result has no thumbnail", { job_id: job.id });
        }
        return new Response(body, {
          headers: {
            "Content-Type": "image/webp",
            "X-Content-Type-Options": "nosniff",
            ...expiryHeaders(job.resultExpiresAt, services.clock.now()),
          },
        });
      },
      {
        detail: op({
          tag: "public",
          summary: "The WebP thumbnail of a result (made on its first request)",
          ok: { description: "The thumbnail", contentType: "image/webp" },
          errors: [404, 410],
        }),
      },
    )
    .get(
      "/public/media/:id",
      async ({ params }) => {
        const obj = /^[A-Za-z0-9_-]{43}$/.test(params.id) ? await services.objects.get(params.id) : null;
        if (!obj) throw new AppError("media_not_found", "There is no media object with this id");
        const now = services.clock.now();
        const live = !obj.deletedAt && obj.expiresAt.getTime() > now.getTime();
        const body = live ? await services.media.body(obj.path) : null;
        if (!body) {
          throw new AppError("media_expired", "This media link has expired", {
            expires_at: obj.expiresAt.toISOString(),
          });
        }
        return new Response(body, {
          headers: {
            "Content-Type": obj.mime,
            "Cache-Control": "private, max-age=0",
            "X-Content-Type-Options": "nosniff",
          },
        });
      },
      {
        detail: op({
          tag: "public",
          summary: "A temporary media object (inputs fetched by URL-based providers)",
          description: "Unguessable id; lives until the job's deadline, 410 after.",
          ok: { description: "The image", contentType: "image/*" },
          errors: [404, 410],
        }),
      },
    );
