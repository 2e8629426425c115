/** @jsxImportSource @kitajs/html */
/** Jobs: the live queue (polled, with time left and cancel), finished jobs with filters, one job's timeline. */
import {
  Alert,
  AlertText,
  Card,
  CardsTable,
  confirmAttrs,
  FactRow,
  FailureReason,
  FilterSelect,
  JobMessage,
  JobsTable,
  jobColumns,
  PageHead,
  Pager,
  StatusPill,
} from "../components";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { can, fmtDateTime, fmtDuration, fmtTime, slotName, type View } from "../view";

export interface JobListItem {
  id: string;
  slotId: string;
  status: string;
  source: string;
  createdAt: string;
  expiresAt: string;
  totalMs: number | null;
  failureReason: string | null;
  errorMessage: string | null;
  provider: string;
  operation: string;
  providerLabel: string;
  operationLabel: string;
  fallbackUsed?: boolean;
  deleted?: boolean;
}

export interface JobFilterValues {
  status?: string;
  slot?: string;
  source?: string;
}

function CancelButton({ v, id }: { v: View; id: string }): JSX.Element {
  if (!can(v, "jobs:write")) return "";
  return (
    <button
      type="button"
      class="btn small danger ghost"
      hx-post={`/jobs/${id}/cancel`}
      {...confirmAttrs(v.t.console.actions.cancelJob, v.t.jobs.confirmCancel)}
      hx-target="#live-queue"
      hx-swap="outerHTML"
    >
      <Icon name="x" />
      <span safe>{v.t.jobs.cancel}</span>
    </button>
  );
}

export function LiveQueue({
  v,
  jobs,
  message,
}: {
  v: View;
  jobs: JobListItem[];
  message?: { kind: "success" | "error"; text: string };
}): JSX.Element {
  return (
    <section
      class="card"
      id="live-queue"
      hx-get="/partials/live-queue"
      hx-trigger="every 2s"
      hx-swap="outerHTML"
    >
      <div class="card-head">
        <h2>
          {jobs.length ? (
            <>
              <span class="pill busy">
                <span class="dot"></span>
              </span>{" "}
            </>
          ) : (
            ""
          )}
          <span safe>{v.t.jobs.live}</span>
        </h2>
        <span class="hint" safe>
          {v.t.common.updatedAt(fmtTime(v, v.now))}
        </span>
      </div>
      {message ? (
        <Alert kind={message.kind}>
          <span safe>{message.text}</span>
        </Alert>
      ) : (
        ""
      )}
      {jobs.length ? (
        <CardsTable
          rows={jobs}
          rowAttrs={(j) => ({ "data-job-id": j.id })}
          columns={[
            jobColumns(v).slot,
            jobColumns(v).status,
            jobColumns(v).source,
            {
              label: v.t.jobs.created,
              cell: (j) => (
                <a href={`/jobs/${j.id}`} safe>
                  {fmtTime(v, j.createdAt)}
                </a>
              ),
            },
            {
              label: v.t.jobs.timeLeft,
              num: true,
              text: (j) => {
                const left = new Date(j.expiresAt).getTime() - v.now.getTime();
                return left > 0 ? v.t.time.left(fmtDuration(v, left)) : v.t.time.overdue;
              },
            },
            { label: v.t.jobs.cancel, hideLabel: true, cell: (j) => <CancelButton v={v} id={j.id} /> },
          ]}
        />
      ) : (
        <p class="muted" safe>
          {v.t.jobs.liveEmpty}
        </p>
      )}
    </section>
  );
}

function Filters({ v, f, slotIds }: { v: View; f: JobFilterValues; slotIds: string[] }): JSX.Element {
  const statuses = ["succeeded", "failed", "timeout", "cancelled", "pending", "processing"];
  return (
    <form
      class="filters"
      method="get"
      action="/jobs"
      hx-get="/jobs"
      hx-target="#job-list"
      hx-select="#job-list"
      hx-swap="outerHTML"
      hx-push-url="true"
    >
      {[
        { name: "status", label: v.t.jobs.status, options: statuses.map((s) => [s, v.t.jobs.statuses[s]]) },
        { name: "slot", label: v.t.jobs.slot, options: slotIds.map((s) => [s, s]) },
        {
          name: "source",
          label: v.t.jobs.source,
          options: ["ingest", "test_run", "rerun"].map((s) => [s, v.t.result.source[s]]),
        },
      ].map((x) => (
        <FilterSelect
          v={v}
          id={`flt-${x.name}`}
          name={x.name}
          label={x.label}
          options={x.options.map(([value, label]) => ({ value: value!, label: label ?? value! }))}
          selected={f[x.name as keyof JobFilterValues]}
        />
      ))}
      <button class="btn" type="submit" safe>
        {v.t.jobs.apply}
      </button>
      <a class="btn ghost" href="/jobs" safe>
        {v.t.jobs.reset}
      </a>
    </form>
  );
}

export function JobList({
  v,
  jobs,
  page,
  pages,
  f,
  error,
}: {
  v: View;
  jobs: JobListItem[];
  page: number;
  pages: number;
  f: JobFilterValues;
  error?: string;
}): JSX.Element {
  const link = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, val] of Object.entries(f)) if (val) q.set(k, val);
    q.set("page", String(p));
    return `/jobs?${q}`;
  };
  const self = link(page);
  return (
    <div
      id="job-list"
      hx-get={self}
      hx-trigger="every 5s, jobs-changed from:body"
      hx-select="#job-list"
      hx-swap="outerHTML"
    >
      <AlertText kind="error" text={error} />
      {jobs.length ? (
        <JobsTable v={v} jobs={jobs} showSlot />
      ) : (
        <p class="muted" safe>
          {v.t.jobs.empty}
        </p>
      )}
      <Pager v={v} page={page} pages={pages} link={link} />
    </div>
  );
}

export function JobsPage({
  v,
  live,
  list,
  slotIds,
}: {
  v: View;
  live: JobListItem[];
  list: { jobs: JobListItem[]; page: number; pages: number; f: JobFilterValues; error?: string };
  slotIds: string[];
}): JSX.Element {
  return (
    <Layout v={v} title={v.t.jobs.title}>
      <PageHead eyebrow={v.t.jobs.eyebrow} title={v.t.jobs.title} />
      <LiveQueue v={v} jobs={live} />
      <section class="card">
        <div class="card-head">
          <h2 safe>{v.t.jobs.finished}</h2>
        </div>
        <Filters v={v} f={list.f} slotIds={slotIds} />
        <div class="gap-top">
          <JobList v={v} {...list} />
        </div>
      </section>
    </Layout>
  );
}

export interface JobDetailModel {
  job: JobListItem & {
    queueWaitMs: number | null;
    providerMs: number | null;
    startedAt: string | null;
    finalizedAt: string | null;
    resultAvailable: boolean;
    clientMeta: Record<string, string>;
    clientIp: string | null;
    /** The slot's name (the page's title); null if the slot could not be read. */
    slotName: string | null;
    /** The fallback the job went to (provider · operation, as labelled), when it did. */
    fallbackLabel: string | null;
    servedByFallback: boolean;
    rerunOf: string | null;
    reruns: { id: string; status: string }[];
    deletedAt: string | null;
    deletedBy: string | null;
    photoKept: boolean;
  };
  /** What the last action on the page did (after its redirect): a done message or an error. */
  flash?: { kind: "success" | "error"; text: string };
  timeline: {
    event: string;
    at: string;
    offsetMs: number;
    message: string | null;
    details: Record<string, unknown>;
  }[];
}

function BoothMeta({
  v,
  meta,
  ip,
}: {
  v: View;
  meta: Record<string, string>;
  ip: string | null;
}): JSX.Element {
  const entries = Object.entries(meta);
  if (!entries.length && !ip) return "";
  return (
    <Card id="booth-meta" title={v.t.jobs.boothMeta}>
      <table>
        <tbody>
          {ip ? (
            <tr>
              <th scope="row" safe>
                {v.t.jobs.clientIp}
              </th>
              <td class="mono" safe>
                {ip}
              </td>
            </tr>
          ) : (
            ""
          )}
          {entries.map(([k, val]) => (
            <tr>
              <th scope="row">
                {v.t.jobs.metaFields[k] ? (
                  <span safe>{v.t.jobs.metaFields[k]}</span>
                ) : (
                  <code translate="no" safe>
                    {k}
                  </code>
                )}
              </th>
              <td class="mono break" translate="no" safe>
                {val}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

/** Delete (a finished job whose photo is not deleted yet) and run again (a failed job whose photo is kept). */
function JobActions({ v, j, active }: { v: View; j: JobDetailModel["job"]; active: boolean }): JSX.Element {
  if (!can(v, "jobs:write") || active) return "";
  const rerunnable = j.status !== "succeeded" && j.photoKept && !j.deletedAt;
  return (
    <div class="row" id="job-actions">
      {rerunnable ? (
        <form method="post" action={`/jobs/${j.id}/rerun`}>
          <button class="btn" type="submit" title={v.t.jobs.rerunHint}>
            <Icon name="refresh" />
            <span safe>{v.t.jobs.rerun}</span>
          </button>
        </form>
      ) : (
        ""
      )}
      {j.deletedAt ? (
        ""
      ) : (
        <form
          method="post"
          action={`/jobs/${j.id}/delete`}
          {...confirmAttrs(v.t.console.actions.deletePhoto, v.t.jobs.confirmDelete)}
        >
          <button class="btn danger ghost" type="submit">
            <Icon name="trash" />
            <span safe>{v.t.jobs.delete}</span>
          </button>
        </form>
      )}
    </div>
  );
}

/** Where the job came from and went: re-run of an earlier job, re-run as later ones, the fallback, the deletion. */
function JobNotes({ v, j }: { v: View; j: JobDetailModel["job"] }): JSX.Element {
  return (
    <>
      {j.fallbackLabel ? (
        <Alert kind="info">
          <span safe>
            {j.servedByFallback
              ? v.t.jobs.servedByFallback(j.fallbackLabel)
              : v.t.jobs.fallbackTried(j.fallbackLabel)}
          </span>
        </Alert>
      ) : (
        ""
      )}
      <AlertText
        kind="warn"
        text={j.deletedAt ? v.t.jobs.deletedBy(j.deletedBy ?? "—", fmtDateTime(v, j.deletedAt)) : undefined}
      />
      {j.rerunOf ? (
        <p class="sub" data-rerun-of>
          <span safe>{v.t.jobs.rerunOf}</span>{" "}
          <a class="mono" href={`/jobs/${j.rerunOf}`} safe>
            {j.rerunOf.slice(0, 8)}
          </a>
        </p>
      ) : (
        ""
      )}
      {j.reruns.length ? (
        <ul class="plain" data-reruns>
          {j.reruns.map((r) => (
            <li>
              <span safe>{v.t.jobs.rerunAs}</span>{" "}
              <a class="mono" href={`/jobs/${r.id}`} safe>
                {r.id.slice(0, 8)}
              </a>{" "}
              <StatusPill v={v} status={r.status} />
            </li>
          ))}
        </ul>
      ) : (
        ""
      )}
      {!j.photoKept &&
      !j.deletedAt &&
      j.status !== "succeeded" &&
      j.status !== "pending" &&
      j.status !== "processing" ? (
        <p class="hint" safe>
          {v.t.jobs.photoGone}
        </p>
      ) : (
        ""
      )}
    </>
  );
}

export function JobDetailPage({ v, m }: { v: View; m: JobDetailModel }): JSX.Element {
  const j = m.job;
  const active = j.status === "pending" || j.status === "processing";
  return (
    <Layout v={v} title={`${v.t.jobs.title} ${j.id.slice(0, 8)}`}>
      <div class="page-head">
        <div>
          <a href="/jobs" class="small" safe>
            {`← ${v.t.jobs.title}`}
          </a>
          <div class="eyebrow mono" safe>
            {j.id}
          </div>
          <h1>
            <a href={`/slots/${j.slotId}`} safe>
              {j.slotName ? slotName(v, j.slotName) : j.slotId}
            </a>{" "}
            <StatusPill v={v} status={j.status} />
          </h1>
          <p class="sub">
            <span class="mono" safe>
              {j.slotId}
            </span>{" "}
            · <span safe>{j.providerLabel}</span> · <span safe>{j.operationLabel}</span> ·{" "}
            <span safe>{v.t.result.source[j.source] ?? j.source}</span>
          </p>
        </div>
        {active && can(v, "jobs:write") ? (
          <form method="post" action={`/jobs/${j.id}/cancel`}>
            <button class="btn danger" type="submit">
              <Icon name="x" />
              <span safe>{v.t.jobs.cancel}</span>
            </button>
          </form>
        ) : (
          ""
        )}
        <JobActions v={v} j={j} active={active} />
      </div>
      {m.flash ? (
        <Alert kind={m.flash.kind}>
          <span safe>{m.flash.text}</span>
        </Alert>
      ) : (
        ""
      )}
      <JobNotes v={v} j={j} />
      {j.failureReason ? (
        <Alert kind="error">
          <FailureReason v={v} reason={j.failureReason} message={j.errorMessage} strong />
        </Alert>
      ) : (
        ""
      )}
      <div class="grid-2">
        <Card title={v.t.jobs.timeline}>
          <ol class="timeline">
            {m.timeline.map((s) => (
              <li>
                <strong safe>{v.t.jobs.events[s.event] ?? s.event}</strong>{" "}
                <span class="muted small" safe>
                  {`+${fmtDuration(v, s.offsetMs)} · ${fmtTime(v, s.at)}`}
                </span>
                <JobMessage v={v} message={s.message} />
                {typeof s.details.reason === "string" ? (
                  <div class="small" safe>
                    {v.t.jobs.reasons[s.details.reason] ?? s.details.reason}
                  </div>
                ) : (
                  ""
                )}
                {typeof s.details.error === "string" ? <JobMessage v={v} message={s.details.error} /> : ""}
                {s.event === "poll" && typeof s.details.queueid === "string" ? (
                  <div class="small" data-queueid={s.details.queueid} safe>
                    {v.t.jobs.pollLine(
                      s.details.queueid,
                      v.t.jobs.pollAnswers[String(s.details.answer)] ?? String(s.details.answer ?? ""),
                    )}
                  </div>
                ) : (
                  ""
                )}
              </li>
            ))}
          </ol>
        </Card>
        <Card title={v.t.jobs.timings}>
          <table>
            <tbody>
              <FactRow label={v.t.jobs.created} text={fmtDateTime(v, j.createdAt)} />
              <FactRow label={v.t.jobs.queueWait} text={fmtDuration(v, j.queueWaitMs)} />
              <FactRow label={v.t.jobs.providerTime} text={fmtDuration(v, j.providerMs)} />
              <FactRow label={v.t.jobs.total} text={fmtDuration(v, j.totalMs)} />
            </tbody>
          </table>
          {j.resultAvailable ? (
            <div class="stack gap-top">
              <img src={`/public/results/${j.id}/thumb`} alt="" class="thumb thumb-large" />
              <div class="row">
                <a class="btn small" href={`/public/results/${j.id}?download=1`} download="">
                  <Icon name="download" />
                  <span safe>{v.t.common.download}</span>
                </a>
                <a class="btn small ghost" href={`/r/${j.id}`} target="_blank" rel="noopener">
                  <Icon name="share" />
                  <span safe>{v.t.common.share}</span>
                </a>
              </div>
            </div>
          ) : (
            ""
          )}
        </Card>
      </div>
      <BoothMeta v={v} meta={j.clientMeta} ip={j.clientIp} />
    </Layout>
  );
}
