/** @jsxImportSource @kitajs/html */
/** Small building blocks shared by the pages. Every piece of user data goes through `safe`. */
import type { Children } from "@kitajs/html";
import { Icon } from "./icons";
import { can, errorText, fmtDateTime, fmtDuration, jobMessage, type View } from "./view";

/**
 * What an action asks through the console's confirmation dialog (app.js): the action as its title
 * and button, and what it destroys as its text.
 */
export function confirmAttrs(action: string, text: string): Record<string, string> {
  return { "data-confirm-title": action, "data-confirm": text };
}

export function Alert({
  kind,
  children,
  id,
  answer,
}: {
  kind: "error" | "success" | "warn" | "info";
  children?: Children;
  id?: string;
  /** The answer to the action that rendered it: app.js also says it beside the control used. */
  answer?: boolean;
}): JSX.Element {
  return (
    <div
      class={`alert ${kind}`}
      role={kind === "error" ? "alert" : "status"}
      id={id}
      data-answer={answer ? "" : undefined}
    >
      <Icon name={kind === "success" ? "check" : "alert"} />
      <div>{children}</div>
    </div>
  );
}

/** A one-line message in an alert, or nothing when there is no text. */
export function AlertText({
  kind,
  text,
}: {
  kind: "error" | "success" | "warn" | "info";
  text: string | null | undefined;
}): JSX.Element {
  if (!text) return "";
  return (
    <Alert kind={kind}>
      <span safe>{text}</span>
    </Alert>
  );
}

/** A paragraph of text (escaped) with its class, or nothing when there is no text. */
export function Para({ class: cls, text }: { class: string; text: string | null | undefined }): JSX.Element {
  if (!text) return "";
  return (
    <p class={cls} safe>
      {text}
    </p>
  );
}

/** An error as a readable, localized message (never the raw envelope). */
export function ErrorAlert({ v, code, message }: { v: View; code: string; message?: string }): JSX.Element {
  return (
    <Alert kind="error">
      <span safe>{errorText(v, code, message)}</span>
    </Alert>
  );
}

/** A value to copy: `label` names it (the input's accessible name is "Copy" without one). */
interface CopyProps {
  v: View;
  id: string;
  value: string;
  label?: string;
}

export function CopyField({ v, id, value, label }: CopyProps): JSX.Element {
  return (
    <div class="copy-field">
      {label ? (
        <label for={id} safe>
          {label}
        </label>
      ) : (
        ""
      )}
      <CopyInput v={v} id={id} value={value} label={label} />
    </div>
  );
}

/** A read-only value with a copy button beside it (app.js copies it). */
export function CopyInput({ v, id, value, label }: CopyProps): JSX.Element {
  return (
    <div class="input-group">
      <input type="text" id={id} value={value} readonly class="mono" aria-label={label ?? v.t.common.copy} />
      <button type="button" class="btn" data-copy-target={id}>
        <Icon name="copy" />
        <span data-label safe>
          {v.t.common.copy}
        </span>
      </button>
    </div>
  );
}

export function StatusPill({ v, status }: { v: View; status: string }): JSX.Element {
  return (
    <span class={`pill ${status}`}>
      {status === "processing" || status === "pending" ? <span class="dot"></span> : ""}
      <span safe>{v.t.jobs.statuses[status] ?? status}</span>
    </span>
  );
}

/**
 * A job's stored message: ours are shown in the page's language ("Cancelled by serg" → "Отменена
 * администратором serg"); a provider's own words cannot be translated, so they are quoted as the
 * provider's, marked as not for translation.
 */
export function JobMessage({ v, message }: { v: View; message: string | null }): JSX.Element {
  if (!message) return "";
  const ours = jobMessage(v, message);
  if (ours) {
    return (
      <div class="muted small" safe>
        {ours}
      </div>
    );
  }
  return (
    <div class="muted small">
      <span safe>{v.t.jobs.providerSaid}</span>{" "}
      <q class="raw" lang="en" translate="no" safe>
        {message}
      </q>
    </div>
  );
}

/**
 * Why a job failed: the reason's words, then its message — once when the message already says the
 * reason ("отменена администратором" and "Отменена администратором serg" is the same thing twice).
 */
export function FailureReason({
  v,
  reason,
  message,
  strong = false,
}: {
  v: View;
  reason: string | null;
  message: string | null;
  strong?: boolean;
}): JSX.Element {
  const label = reason ? (v.t.jobs.reasons[reason] ?? reason) : "";
  const ours = jobMessage(v, message);
  if (label && ours?.toLowerCase().startsWith(label.toLowerCase())) {
    return strong ? <strong safe>{ours}</strong> : <span safe>{ours}</span>;
  }
  return (
    <>
      {label ? strong ? <strong safe>{label}</strong> : <span safe>{label}</span> : ""}
      <JobMessage v={v} message={message} />
    </>
  );
}

/** One job in a job table. */
/** A pill after the status (fallback used, deleted), marked for scripts, or nothing when `on` is false. */
function MarkPill({
  on,
  class: cls,
  mark,
  text,
}: {
  on?: boolean;
  class: string;
  mark: string;
  text: string;
}): JSX.Element {
  if (!on) return "";
  return (
    <>
      {" "}
      <span class={cls} {...{ [mark]: true }} safe>
        {text}
      </span>
    </>
  );
}

export interface JobRowView {
  id: string;
  slotId?: string;
  status: string;
  source: string;
  createdAt: string;
  totalMs: number | null;
  failureReason: string | null;
  errorMessage: string | null;
  /** The job went to the slot's fallback provider (which served it, if it succeeded). */
  fallbackUsed?: boolean;
  /** The photo was deleted at the studio's request. */
  deleted?: boolean;
}

/** The columns the job tables share (finished jobs here, the live queue on the jobs page). */
export function jobColumns(v: View) {
  return {
    slot: {
      label: v.t.jobs.slot,
      cell: (j) => (
        <a href={`/slots/${j.slotId}`} safe>
          {j.slotId}
        </a>
      ),
    } satisfies Column<JobRowView>,
    status: {
      label: v.t.jobs.status,
      cell: (j) => (
        <>
          <StatusPill v={v} status={j.status} />
          <MarkPill on={j.fallbackUsed} class="pill busy" mark="data-fallback" text={v.t.jobs.viaFallback} />
          <MarkPill on={j.deleted} class="pill off" mark="data-deleted" text={v.t.jobs.deletedPill} />
        </>
      ),
    } satisfies Column<JobRowView>,
    source: {
      label: v.t.jobs.source,
      text: (j) => v.t.result.source[j.source] ?? j.source,
    } satisfies Column<JobRowView>,
  };
}

/** The job table of the jobs page (with the slot column) and of a slot page (without it). */
export function JobsTable({
  v,
  jobs,
  showSlot = false,
}: {
  v: View;
  jobs: JobRowView[];
  showSlot?: boolean;
}): JSX.Element {
  const cols = jobColumns(v);
  return (
    <CardsTable
      rows={jobs}
      rowAttrs={(j) => ({ "data-job-id": j.id })}
      columns={[
        {
          label: v.t.jobs.created,
          cell: (j) => (
            <a href={`/jobs/${j.id}`} safe>
              {fmtDateTime(v, j.createdAt)}
            </a>
          ),
        },
        showSlot && cols.slot,
        cols.status,
        cols.source,
        { label: v.t.jobs.duration, num: true, text: (j) => fmtDuration(v, j.totalMs) },
        {
          label: v.t.jobs.reason,
          cell: (j) => <FailureReason v={v} reason={j.failureReason} message={j.errorMessage} />,
        },
      ]}
    />
  );
}

export function Field({
  label,
  name,
  error,
  hint,
  required,
  children,
  id,
}: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  required?: boolean;
  children?: Children;
  id?: string;
}): JSX.Element {
  const fid = id ?? `f-${name.replace(/[^a-z0-9_-]/gi, "-")}`;
  return (
    <div class={error ? "field invalid" : "field"} data-field={name}>
      <label for={fid}>
        <span safe>{label}</span>
        {required ? <span class="req"> *</span> : ""}
      </label>
      {children}
      <Para class="hint" text={hint} />
      {error ? (
        <p class="field-error" id={`${fid}-error`} safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

export function PasswordInput({
  v,
  id,
  name,
  autocomplete,
  placeholder,
  disabled,
  preserve,
}: {
  v: View;
  id: string;
  name: string;
  autocomplete: string;
  placeholder?: string;
  disabled?: boolean;
  /**
   * When this markup replaces the field (an htmx swap after an error), keep what is on the page:
   * the typed value and whether it is shown (`hx-preserve`, matched by the wrapper's id).
   */
  preserve?: boolean;
}): JSX.Element {
  return (
    <div class="pw-wrap" id={`${id}-wrap`} hx-preserve={preserve ? "true" : undefined}>
      <input
        type="password"
        id={id}
        name={name}
        autocomplete={autocomplete}
        placeholder={placeholder}
        disabled={disabled}
      />
      <button
        type="button"
        class="pw-toggle"
        data-toggle-password={id}
        aria-pressed="false"
        aria-label={v.t.login.showPassword}
        title={v.t.login.showPassword}
        data-label-show={v.t.login.showPassword}
        data-label-hide={v.t.login.hidePassword}
      >
        <span class="eye-open">
          <Icon name="eye" />
        </span>
        <span class="eye-closed" hidden>
          <Icon name="eyeOff" />
        </span>
      </button>
    </div>
  );
}

/** A drag-and-drop image picker with a client-side preview. */
export function DropZone({
  id,
  name,
  label,
  accept = "image/jpeg,image/png,image/webp,image/heic",
}: {
  id: string;
  name: string;
  label: string;
  accept?: string;
}): JSX.Element {
  return (
    <label class="dropzone" id={id}>
      <img class="preview" alt="" hidden />
      <Icon name="upload" />
      <span safe> {label}</span>
      <div class="small muted mono" data-file-name></div>
      <input type="file" name={name} accept={accept} />
    </label>
  );
}

export interface ResultItem {
  jobId: string;
  slotId: string;
  source: string;
  finalizedAt: Date | string | null;
  resultExpiresAt: Date | string | null;
}

/** What is left of a result card once its photo is deleted (or why the deletion was refused). */
export function ResultGone({ v, jobId, error }: { v: View; jobId: string; error?: string }): JSX.Element {
  return (
    <article class="result-card" data-job-id={jobId} data-deleted={error ? undefined : "true"}>
      <div class="body">
        <Alert kind={error ? "error" : "success"}>
          <span safe>{error ?? v.t.jobs.deletedDone}</span>
        </Alert>
        <a href={`/jobs/${jobId}`} class="small" safe>
          {v.t.jobs.details}
        </a>
      </div>
    </article>
  );
}

/** A result thumbnail with download, guest page and QR code (and, for jobs:write, delete). */
export function ResultCard({ v, r }: { v: View; r: ResultItem }): JSX.Element {
  const dialogId = `qr-${r.jobId}`;
  return (
    <article class="result-card" data-job-id={r.jobId}>
      <a href={`/public/results/${r.jobId}`} target="_blank" rel="noopener">
        <img
          src={`/public/results/${r.jobId}/thumb`}
          alt={`${r.slotId} ${r.jobId.slice(0, 8)}`}
          loading="lazy"
        />
      </a>
      <div class="body">
        <div>
          <span class="muted" safe>
            {v.t.result.finished}:
          </span>{" "}
          <time datetime={String(r.finalizedAt ?? "")} safe>
            {fmtDateTime(v, r.finalizedAt)}
          </time>
        </div>
        <div class="muted small">
          <span safe>{v.t.result.expires}</span> <span safe>{fmtDateTime(v, r.resultExpiresAt)}</span> ·{" "}
          <span safe>{v.t.result.source[r.source] ?? r.source}</span>
        </div>
        <div class="actions">
          <a class="btn small" href={`/public/results/${r.jobId}?download=1`} download="">
            <Icon name="download" />
            <span safe>{v.t.common.download}</span>
          </a>
          <span class="btn-group">
            <a class="btn small ghost" href={`/r/${r.jobId}`} target="_blank" rel="noopener">
              <Icon name="share" />
              <span class="sr-only" safe>
                {v.t.common.share}
              </span>
            </a>
            <button
              type="button"
              class="btn small ghost"
              data-dialog={dialogId}
              title={v.t.common.qr}
              aria-label={v.t.common.qr}
            >
              <Icon name="qr" />
            </button>
          </span>
          {can(v, "jobs:write") ? (
            <button
              type="button"
              class="btn small danger ghost"
              hx-post={`/jobs/${r.jobId}/delete`}
              {...confirmAttrs(v.t.console.actions.deletePhoto, v.t.jobs.confirmDelete)}
              hx-target="closest .result-card"
              hx-swap="outerHTML"
              title={v.t.jobs.delete}
              aria-label={v.t.jobs.delete}
            >
              <Icon name="trash" />
            </button>
          ) : (
            ""
          )}
        </div>
      </div>
      <dialog id={dialogId} aria-labelledby={`${dialogId}-title`}>
        <h3 id={`${dialogId}-title`} safe>
          {v.t.gallery.qrTitle}
        </h3>
        <img
          class="qr"
          src={`/r/${r.jobId}/qr.svg`}
          alt={v.t.common.qr}
          loading="lazy"
          width="320"
          height="320"
        />
        <p class="hint" safe>
          {v.t.gallery.qrHint}
        </p>
        <div class="row">
          <a class="btn small ghost" href={`/r/${r.jobId}`} target="_blank" rel="noopener">
            <Icon name="link" />
            <span safe>{v.t.common.share}</span>
          </a>
          <span class="spacer"></span>
          <form method="dialog">
            <button class="btn small" type="submit" safe>
              {v.t.common.close}
            </button>
          </form>
        </div>
      </dialog>
    </article>
  );
}

/**
 * One column of a `CardsTable`: its header and how a row fills the cell — `text` (escaped here) or
 * `cell` (markup the caller built with `safe`). `hideLabel` keeps the header for screen readers only.
 */
export interface Column<T> {
  label: string;
  text?: (row: T) => string;
  cell?: (row: T) => JSX.Element;
  num?: boolean;
  mono?: boolean;
  /** More classes of the cell (`break`, `small`…). */
  class?: string;
  hideLabel?: boolean;
  /** Extra attributes of the cell (data-* hooks for tests and scripts). */
  attrs?: (row: T) => Record<string, string>;
}

/**
 * The table every list page uses: a plain table on a wide screen, one card per row on a phone (the
 * header becomes each cell's `data-label`, shown by the stylesheet).
 */
export function CardsTable<T>({
  id,
  columns,
  rows,
  rowAttrs,
}: {
  id?: string;
  columns: (Column<T> | false)[];
  rows: T[];
  rowAttrs?: (row: T) => Record<string, string>;
}): JSX.Element {
  const cols = columns.filter((c): c is Column<T> => c !== false);
  const label = (c: Column<T>) => (c.hideLabel ? undefined : c.label);
  const classes = (c: Column<T>) =>
    [c.num ? "num" : "", c.mono ? "mono" : "", c.class ?? ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="table-wrap">
      <table class="cards-on-phone" id={id}>
        <thead>
          <tr>
            {cols.map((c) =>
              c.hideLabel ? (
                <th>
                  <span class="sr-only" safe>
                    {c.label}
                  </span>
                </th>
              ) : (
                <th class={c.num ? "num" : undefined} safe>
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr {...(rowAttrs?.(r) ?? {})}>
              {cols.map((c) =>
                c.text ? (
                  <td data-label={label(c)} class={classes(c)} {...(c.attrs?.(r) ?? {})} safe>
                    {c.text(r)}
                  </td>
                ) : (
                  <td data-label={label(c)} class={classes(c)} {...(c.attrs?.(r) ?? {})}>
                    {c.cell?.(r) ?? ""}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A titled card of a console page, with an optional hint under its title. */
export function Card({
  id,
  title,
  hint,
  children,
}: {
  id?: string;
  title: string;
  hint?: string;
  children?: Children;
}): JSX.Element {
  return (
    <section class="card" id={id}>
      <h2 safe>{title}</h2>
      {hint === undefined ? (
        ""
      ) : (
        <p class="hint" safe>
          {hint}
        </p>
      )}
      {children ?? ""}
    </section>
  );
}

/**
 * A row of a two-column facts table: the label as the row's header, and `text` (escaped here) or
 * the caller's markup as its value.
 */
export function FactRow({
  label,
  text,
  attrs,
  children,
}: {
  label: string;
  text?: string;
  attrs?: Record<string, string>;
  children?: Children;
}): JSX.Element {
  return (
    <tr {...(attrs ?? {})}>
      <th scope="row" safe>
        {label}
      </th>
      {text === undefined ? <td>{children ?? ""}</td> : <td safe>{text}</td>}
    </tr>
  );
}

/**
 * The head of a console page: an optional way back, the eyebrow, the title and an optional sub-line
 * on the left; `children` (period switch, actions, a figure) on the right.
 */
export function PageHead({
  eyebrow,
  title,
  sub,
  back,
  children,
}: {
  eyebrow: string;
  title: string;
  sub?: string;
  back?: { href: string; label: string };
  children?: Children;
}): JSX.Element {
  return (
    <div class="page-head">
      <div>
        {back ? (
          <a href={back.href} class="small" safe>
            {back.label}
          </a>
        ) : (
          ""
        )}
        <div class="eyebrow" safe>
          {eyebrow}
        </div>
        <h1 safe>{title}</h1>
        {sub === undefined ? (
          ""
        ) : (
          <p class="sub" safe>
            {sub}
          </p>
        )}
      </div>
      {children ?? ""}
    </div>
  );
}

/**
 * "On this page": anchors to the sections of a long page (the slot and settings pages are several
 * screens tall on a phone), wrapping as pills under the page's title.
 */
export function PageNav({ v, links }: { v: View; links: [href: string, label: string][] }): JSX.Element {
  return (
    <nav class="page-nav" aria-label={v.t.console.onThisPage}>
      {links.map(([href, label]) => (
        <a href={href} safe>
          {label}
        </a>
      ))}
    </nav>
  );
}

/** "← previous · page 2 of 5 · next →" under a paged list (nothing when there is one page). */
export function Pager({
  v,
  page,
  pages,
  link,
}: {
  v: View;
  page: number;
  pages: number;
  link: (page: number) => string;
}): JSX.Element {
  if (pages <= 1) return "";
  return (
    <div class="row gap-top">
      {page > 1 ? (
        <a class="btn small ghost" href={link(page - 1)} safe>
          {v.t.common.prev}
        </a>
      ) : (
        ""
      )}
      <span class="muted small" safe>
        {v.t.common.page(page, pages)}
      </span>
      {page < pages ? (
        <a class="btn small ghost" href={link(page + 1)} safe>
          {v.t.common.next}
        </a>
      ) : (
        ""
      )}
    </div>
  );
}

/** A list filter: a labelled select whose first option is "all". */
export function FilterSelect({
  v,
  id,
  name,
  label,
  options,
  selected,
}: {
  v: View;
  id: string;
  name: string;
  label: string;
  options: { value: string; label: string }[];
  selected?: string;
}): JSX.Element {
  return (
    <div class="field">
      <label for={id} safe>
        {label}
      </label>
      <select id={id} name={name}>
        <option value="" safe>
          {v.t.common.all}
        </option>
        {options.map((o) => (
          <option value={o.value} selected={selected === o.value} safe>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
