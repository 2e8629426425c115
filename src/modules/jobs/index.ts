/**
 * GET /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/cancel, DELETE /api/jobs/{id},
 * POST /api/jobs/{id}/rerun. Reading jobs needs `slots:read` (jobs are the slots' work: the slot
 * page lists them); cancelling, deleting and re-running need `jobs:write`.
 */
import { Elysia, t } from "elysia";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { JobDetail, JobPage, JobQuery, JobView } from "./model";
import { cancelJob, deleteJob, getJob, listJobs, parseJobQuery, rerunJob } from "./service";

const jobParams = t.Object({ id: t.String({ description: "Job id (UUID)" }) });

export const jobsModule = (services: Services) =>
  new Elysia({ name: "jobs" })
    .use(authPlugin(services))
    .get(
      "/api/jobs",
      async ({ query, request }) =>
        listJobs(services, parseJobQuery(query), await linkBaseFor(services.settings, request)),
      {
        scope: "slots:read",
        query: t.Object(JobQuery.properties),
        detail: op({
          tag: "jobs",
          summary: "List jobs, newest first (filters and paging)",
          scope: "slots:read",
          ok: { schema: JobPage },
          errors: [400],
        }),
      },
    )
    .get(
      "/api/jobs/:id",
      async ({ params, request }) =>
        getJob(services, params.id, await linkBaseFor(services.settings, request)),
      {
        scope: "slots:read",
        params: jobParams,
        detail: op({
          tag: "jobs",
          summary: "One job with its processing-log timeline and timings",
          scope: "slots:read",
          ok: { schema: JobDetail },
          errors: [404],
        }),
      },
    )
    .post(
      "/api/jobs/:id/cancel",
      async ({ params, request, admin }) =>
        cancelJob(services, params.id, admin.username, await linkBaseFor(services.settings, request)),
      {
        scope: "jobs:write",
        params: jobParams,
        detail: op({
          tag: "jobs",
          summary: "Cancel a pending or processing job",
          description: "The booth waiting on the job is answered 503 job_cancelled.",
          scope: "jobs:write",
          ok: { schema: JobView },
          errors: [404, 409],
        }),
      },
    )
    .delete(
      "/api/jobs/:id",
      async ({ params, admin, set }) => {
        await deleteJob(services, params.id, admin.username);
        set.status = 204;
      },
      {
        scope: "jobs:write",
        params: jobParams,
        detail: op({
          tag: "jobs",
          summary: "Delete a guest's photo: the photo, result, thumbnail and temporary media",
          description:
            "Files go from local or S3 storage; the job's row stays (marked) for the statistics. " +
            "`/public/results/{id}` and `/r/{id}` then answer 410 result_deleted. A job still pending " +
            "or processing is refused with 409 job_active (cancel it or wait for it to end). Deleting " +
            "again is 204.",
          scope: "jobs:write",
          ok: { status: 204, description: "Deleted" },
          errors: [404, 409],
        }),
      },
    )
    .post(
      "/api/jobs/:id/rerun",
      async ({ params, admin, set }) => {
        const out = await rerunJob(services, params.id, admin.username);
        set.status = 202;
        return out;
      },
      {
        scope: "jobs:write",
        params: jobParams,
        detail: op({
          tag: "jobs",
          summary: "Run a finished job that did not succeed again, on the slot's current configuration",
          description:
            "A new job (source `rerun`, its own result and guest link) from the kept photo; its id " +
            "is returned at once (202). 409 job_succeeded, job_active or photo_gone (deleted, " +
            "cancelled, or kept no longer: photos of failed jobs stay for the result retention).",
          scope: "jobs:write",
          ok: { status: 202, schema: t.Object({ job_id: t.String({ format: "uuid" }) }) },
          errors: [404, 409, 415, 429, 507],
        }),
      },
    );
