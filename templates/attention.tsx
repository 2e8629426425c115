/** @jsxImportSource @kitajs/html */
/** The "needs attention" banner shown on every admin page, and the failing state of one slot. */
import type { Banner, SlotAttention } from "../src/modules/attention/service";
import { Icon } from "./icons";
import { can, fmtAgo, fmtBytes, fmtDateTime, slotName, type View } from "./view";

export function reasonText(v: View, reason: string | null): string {
  if (!reason) return v.t.common.none;
  return (
    v.t.jobs.reasons[reason] ?? v.t.jobs.statuses[reason] ?? v.t.attention.refusalReasons[reason] ?? reason
  );
}

export function refusalText(v: View, reason: string): string {
  return v.t.attention.refusalReasons[reason] ?? v.t.errors.codes[reason] ?? reason;
}

function SlotLinks({ v, slots }: { v: View; slots: { id: string; name: string; count: number }[] }) {
  return (
    <ul class="attention-slots">
      {slots.map((s) => (
        <li>
          <a href={`/slots/${s.id}`}>
            <span safe>{slotName(v, s.name)}</span> <span class="slot-id" safe>{`(${s.id})`}</span>
          </a>
          : <span safe>{v.t.attention.perHour(s.count)}</span>
        </li>
      ))}
    </ul>
  );
}

function BannerItem({ v, b }: { v: View; b: Banner }): JSX.Element {
  const a = v.t.attention;
  switch (b.kind) {
    case "failing":
      return (
        <li data-banner="failing">
          <strong safe>{a.failingTitle}</strong>
          <ul class="attention-slots">
            {b.slots.map((s) => (
              <li>
                <a href={`/slots/${s.id}`}>
                  <span safe>{slotName(v, s.name)}</span> <span class="slot-id" safe>{`(${s.id})`}</span>
                </a>
                : <span safe>{a.failingLine(s.failures, reasonText(v, s.reason))}</span>
              </li>
            ))}
          </ul>
        </li>
      );
    case "refusals":
      return (
        <li data-banner="refusals" data-reason={b.reason}>
          <strong safe>{a.refusalsTitle(refusalText(v, b.reason))}</strong>
          {b.afterRotation ? (
            <p safe>{a.afterRotation}</p>
          ) : b.reason === "invalid_credentials" ? (
            <p safe>{a.wrongPassword}</p>
          ) : (
            ""
          )}
          <SlotLinks v={v} slots={b.slots} />
        </li>
      );
    case "disk":
      return (
        <li data-banner="disk">
          <strong safe>{a.diskTitle}</strong>{" "}
          <span safe>{a.disk(fmtBytes(v, b.freeBytes), fmtBytes(v, b.totalBytes))}</span>
          {can(v, "settings:read") ? (
            <>
              {" "}
              <a href="/settings#purge" safe>
                {a.diskAction}
              </a>
            </>
          ) : (
            ""
          )}
        </li>
      );
    case "cleaner":
      return (
        <li data-banner="cleaner">
          <strong safe>{a.cleanerTitle}</strong>{" "}
          <span safe>
            {b.error
              ? a.cleanerFailed
              : a.cleanerSilent(b.lastFinishedAt ? fmtDateTime(v, b.lastFinishedAt) : null)}
          </span>{" "}
          <a href="/system" safe>
            {v.t.nav.system}
          </a>
        </li>
      );
    case "database":
      return (
        <li data-banner="database">
          <strong safe>{a.databaseTitle}</strong> <span safe>{a.database}</span>
        </li>
      );
    case "bucket":
      return (
        <li data-banner="bucket">
          <strong safe>{a.bucketTitle}</strong>{" "}
          <span safe>{a.bucket(fmtDateTime(v, b.since), b.waiting)}</span>{" "}
          <a href="/system#media-storage" safe>
            {v.t.nav.system}
          </a>
        </li>
      );
  }
}

/** The banner (or an empty, still polling placeholder) — swapped in place every 20 s. */
export function AttentionBanner({ v }: { v: View }): JSX.Element {
  const banners = v.attention?.banners ?? [];
  return (
    <section
      id="attention"
      class={banners.length ? "attention" : "attention empty"}
      hx-get="/partials/attention"
      hx-trigger="every 20s"
      hx-swap="outerHTML"
      aria-live="polite"
      aria-label={v.t.attention.title}
    >
      {banners.length ? (
        <div class="attention-box" role="alert">
          <Icon name="alert" />
          <div>
            <h2 safe>{v.t.attention.title}</h2>
            <ul class="attention-list">
              {banners.map((b) => (
                <BannerItem v={v} b={b} />
              ))}
            </ul>
          </div>
        </div>
      ) : (
        ""
      )}
    </section>
  );
}

/** A slot's failures and refusals of the last hour, for its dashboard card and its page. */
export function SlotTrouble({ v, s }: { v: View; s: SlotAttention | undefined }): JSX.Element {
  if (!s || (!s.failing && !s.failuresInWindow && !s.refusals.length)) return "";
  const a = v.t.attention;
  return (
    <div class={s.failing ? "slot-trouble failing" : "slot-trouble"} data-failing={String(s.failing)}>
      {s.failuresInWindow || s.failing ? (
        <p>
          <Icon name="alert" /> <strong safe>{s.failing ? a.failingNow : a.failedRecently}</strong>{" "}
          <span safe>{a.failuresInHour(s.failuresInWindow)}</span>
          {s.lastFailureAt ? (
            <>
              {" · "}
              <span safe>{a.lastFailure}</span>{" "}
              <time datetime={s.lastFailureAt} title={fmtDateTime(v, s.lastFailureAt)} safe>
                {fmtAgo(v, s.lastFailureAt)}
              </time>
              {": "}
              <span safe>{reasonText(v, s.lastFailureReason)}</span>
            </>
          ) : (
            ""
          )}
        </p>
      ) : (
        ""
      )}
      {s.refusals.length ? (
        <p data-refusals>
          <strong safe>{a.refusalsCard}</strong>{" "}
          <span safe>{s.refusals.map((r) => `${refusalText(v, r.reason)}: ${r.count}`).join("; ")}</span>
        </p>
      ) : (
        ""
      )}
    </div>
  );
}
