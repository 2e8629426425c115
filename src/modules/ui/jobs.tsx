/** @jsxImportSource @kitajs/html */
/** `/jobs` (live queue + filtered list), `/jobs/{id}` (timeline), cancel. */

import { Elysia } from "elysia";
import { ResultGone } from "../../../templates/components";
import type { Lang } from "../../../templates/i18n/index";
import { ErrorPage } from "../../../templates/pages/error";
import {
  type JobDetailModel,
  JobDetailPage,
  type JobFilterValues,
  type JobListItem,
  JobsPage,
  LiveQueue,
} from "../../../templates/pages/jobs";
import { errorText, type View } from "../../../templates/view";
import { ACTIVE_STATUSES } from "../../domain/outcome";
import { AppError } from "../../lib/errors";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import {
  cancelJob,
  deleteJob,
  getJob,
  type JobView,
  listJobs,
  parseJobQuery,
  rerunJob,
} from "../jobs/service";
import { findSlot, listSlots } from "../slots/service";
import { uiContext } from "./context";
import { operationLabel, providerLabel } from "./labels";
import { render } from "./render";
import { tellTimeline } from "./timeline";

const PAGE_SIZE = 25;

function item(services: Services, lang: Lang, j: JobView): JobListItem {
  return {
    id: j.id,
    slotId: j.slot_id,
    status: j.status,
    source: j.source,
    createdAt: j.created_at,
    expiresAt: j.expires_at,
    totalMs: j.durations.total_ms,
    failureReason: j.failure_reason,
    errorMessage: j.error_message,
    provider: j.provider,
    operation: j.operation,
    providerLabel: providerLabel(services, j.provider, lang),
    operationLabel: operationLabel(services, j.provider, j.operation, lang),
    fallbackUsed: j.fallback_used,
    deleted: !!j.deleted_at,
  };
}

/** What `?done=` and `?error=` after a job action's redirect say on the job page. */
function flashOf(v: View, query: Record<string, string | undefined>): JobDetailModel["flash"] {
  if (query.done === "deleted") return { kind: "success", text: v.t.jobs.deletedDone };
  if (query.done === "rerun") return { kind: "success", text: v.t.jobs.rerunDone };
  if (query.error && /^[a-z_]{1,40}$/.test(query.error)) {
    return { kind: "error", text: errorText(v, query.error, v.t.common.serverError) };
  }
  return undefined;
}

/** After a job action: back to a job page (plain form) with what happened. */
function seeJob(id: string, query: string): Response {
  return new Response(null, { status: 303, headers: { Location: `/jobs/${id}?${query}` } });
}

async function liveJobs(services: Services, lang: Lang): Promise<JobListItem[]> {
  const page = await listJobs(
    services,
    { statuses: [...ACTIVE_STATUSES], page: 1, pageSize: 200, count: false },
    "",
  );
  return page.data.map((j) => item(services, lang, j)).reverse();
}

async function jobList(services: Services, v: View, query: Record<string, string | undefined>) {
  const f: JobFilterValues = {
    status: query.status || undefined,
    slot: query.slot || undefined,
    source: query.source || undefined,
  };
  try {
    const filters = parseJobQuery({ ...f, page: query.page, page_size: String(PAGE_SIZE) });
    const res = await listJobs(services, filters, "");
    return {
      jobs: res.data.map((j) => item(services, v.lang, j)),
      page: filters.page,
      pages: Math.max(1, Math.ceil(res.meta.total / PAGE_SIZE)),
      f,
    };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { jobs: [], page: 1, pages: 1, f, error: errorText(v, err.code, err.message) };
  }
}

export const uiJobsRoutes = (services: Services) =>
  new Elysia({ name: "ui-jobs" })
    .use(uiContext(services))
    .get(
      "/jobs",
      async ({ view, query }) => {
        const [live, list, slots] = await Promise.all([
          liveJobs(services, view.lang),
          jobList(services, view, query as Record<string, string | undefined>),
          listSlots(services, ""),
        ]);
        return render(<JobsPage v={view} live={live} list={list} slotIds={slots.map((s) => s.id)} />);
      },
      { page: "slots:read" },
    )
    .get(
      "/partials/live-queue",
      async ({ view }) => render(<LiveQueue v={view} jobs={await liveJobs(services, view.lang)} />),
      {
        page: "slots:read",
      },
    )
    .get(
      "/jobs/:id",
      async ({ params, view, request, query }) => {
        try {
          const j = await getJob(services, params.id, await linkBaseFor(services.settings, request));
          // the page is named after the slot (its id stays beside it); a slot is never deleted
          const slotName = (await findSlot(services, j.slot_id).catch(() => null))?.name ?? null;
          const fb = j.fallback_used ? j.fallback : null;
          return render(
            <JobDetailPage
              v={view}
              m={{
                flash: flashOf(view, query as Record<string, string | undefined>),
                job: {
                  ...item(services, view.lang, j),
                  slotName,
                  fallbackLabel: fb
                    ? `${providerLabel(services, fb.provider, view.lang)} · ${operationLabel(services, fb.provider, fb.operation, view.lang)}`
                    : null,
                  servedByFallback: j.status === "succeeded" && j.fallback_used,
                  rerunOf: j.rerun_of,
                  reruns: j.reruns,
                  deletedAt: j.deleted_at,
                  deletedBy: j.deleted_by,
                  photoKept: j.photo_kept,
                  clientMeta: j.client_meta ?? {},
                  clientIp: j.client_ip ?? null,
                  queueWaitMs: j.durations.queue_wait_ms,
                  providerMs: j.durations.provider_ms,
                  startedAt: j.started_at,
                  finalizedAt: j.finalized_at,
                  resultAvailable: !!j.result_url,
                },
                timeline: tellTimeline(
                  j.timeline.map((s) => ({
                    event: s.event,
                    at: s.at,
                    offsetMs: s.offset_ms,
                    message: s.message,
                    details: s.details,
                  })),
                  { errorMessage: j.error_message },
                ),
              }}
            />,
          );
        } catch (err) {
          if (err instanceof AppError && err.status === 404) {
            return render(<ErrorPage v={view} message={view.t.jobs.notFound} />, { status: 404 });
          }
          throw err;
        }
      },
      { page: "slots:read" },
    )
    .post(
      "/jobs/:id/cancel",
      async ({ params, view, admin, request }) => {
        let message: { kind: "success" | "error"; text: string };
        try {
          await cancelJob(services, params.id, admin.username, "");
          message = { kind: "success", text: view.t.jobs.cancelled };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          message = { kind: "error", text: errorText(view, err.code, err.message) };
        }
        if (!request.headers.get("hx-request")) {
          return new Response(null, { status: 303, headers: { Location: `/jobs/${params.id}` } });
        }
        // the finished-jobs list refreshes at once, so the cancelled job leaves "processing" there too
        return render(<LiveQueue v={view} jobs={await liveJobs(services, view.lang)} message={message} />, {
          headers: { "HX-Trigger": "jobs-changed" },
        });
      },
      { page: "jobs:write" },
    )
    .post(
      "/jobs/:id/delete",
      async ({ params, view, admin, request }) => {
        // from the gallery (htmx): the card is replaced by a note; from the job page: back to it
        const fromCard = !!request.headers.get("hx-request");
        try {
          await deleteJob(services, params.id, admin.username);
          if (fromCard) return render(<ResultGone v={view} jobId={params.id} />);
          return seeJob(params.id, "done=deleted");
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          if (fromCard) {
            return render(
              <ResultGone v={view} jobId={params.id} error={errorText(view, err.code, err.message)} />,
            );
          }
          if (err.status === 404) {
            return render(<ErrorPage v={view} message={view.t.jobs.notFound} />, { status: 404 });
          }
          return seeJob(params.id, `error=${err.code}`);
        }
      },
      { page: "jobs:write" },
    )
    .post(
      "/jobs/:id/rerun",
      async ({ params, view, admin }) => {
        try {
          const { job_id } = await rerunJob(services, params.id, admin.username);
          return seeJob(job_id, "done=rerun");
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          if (err.status === 404) {
            return render(<ErrorPage v={view} message={view.t.jobs.notFound} />, { status: 404 });
          }
          return seeJob(params.id, `error=${err.code}`);
        }
      },
      { page: "jobs:write" },
    );
