/**
 * GET /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/cancel.
 * Reading jobs needs `slots:read` (jobs are the slots' work: the slot page lists them); cancelling
 * needs `jobs:write`.
 */
import { Elysia, t } from "elysia";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { JobDetail, JobPage, JobQuery, JobView } from "./model";
import { cancelJob, getJob, listJobs, parseJobQuery } from "./service";

const jobParams = t.Object({ id: t.String({ description: "Job id (UUID)" }) });

export const jobsModule = (rt: Services) =>
  new Elysia({ name: "jobs" })
    .use(authPlugin(rt))
    .get(
      "/api/jobs",
      async ({ query, request }) =>
        listJobs(rt, parseJobQuery(query), await linkBaseFor(rt.settings, request)),
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
      async ({ params, request }) => getJob(rt, params.id, await linkBaseFor(rt.settings, request)),
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
        cancelJob(rt, params.id, admin.username, await linkBaseFor(rt.settings, request)),
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
    );
