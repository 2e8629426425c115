/** @jsxImportSource @kitajs/html */
/** The "needs attention" banner shown on every admin page, and the failing state of one slot. */

import { type Banner, bannerIdentity, type SlotAttention } from "../src/domain/attention";
import { confirmAttrs } from "./components";
import { Icon } from "./icons";
import { can, fmtAgo, fmtBytes, fmtDateTime, fmtSince, slotName, type View } from "./view";

export function reasonText(v: View, reason: string | null): string {
  if (!reason) return v.t.common.none;
  return (
    v.t.jobs.reasons[reason] ?? v.t.jobs.statuses[reason] ?? v.t.attention.refusalReasons[reason] ?? reason
  );
}

export function refusalText(v: View, reason: string): string {
  return v.t.attention.refusalReasons[reason] ?? v.t.errors.codes[reason] ?? reason;
}

/** The slots a banner is about, by name: the counts and reasons are on their cards and pages. */
function SlotLinks({ v, slots }: { v: View; slots: { id: string; name: string }[] }) {
  return (
    <ul class="attention-slots inline-list">
      {slots.map((s) => (
        <li>
          <a href={`/slots/${s.id}`}>
            <span safe>{slotName(v, s.name)}</span> <span class="slot-id" safe>{`(${s.id})`}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** "Got it": hides this banner for this admin until its condition changes. */
function AckButton({ v, b }: { v: View; b: Banner }): JSX.Element {
  const id = bannerIdentity(b);
  if (!id) return "";
  return (
    <button
      type="button"
      class="btn small ghost attention-ack"
      hx-post="/attention/ack"
      hx-vals={JSON.stringify(id)}
      hx-target="#attention"
      hx-swap="outerHTML"
      data-ack={id.key}
      title={v.t.attention.ackHint}
    >
      <Icon name="check" />
      <span safe>{v.t.attention.ack}</span>
    </button>
  );
}

/** The banner's one-line gist (the phone's collapsed line). */
function headline(v: View, b: Banner): string {
  const a = v.t.attention;
  switch (b.kind) {
    case "failing":
      return a.failingTitle;
    case "refusals":
      return a.refusalsTitle(refusalText(v, b.reason));
    case "blocked":
      return a.blockedTitle;
    case "disk":
      return a.diskTitle;
    case "cleaner":
      return a.cleanerTitle;
    case "bucket":
      return a.bucketTitle;
    case "database":
      return a.databaseTitle;
  }
}

/** Lifts one block (with the console's confirmation); the banner comes back without it. */
export function UnblockButton({
  v,
  scope,
  blockKey,
  address,
  target = "#attention",
  action = "/attention/unblock",
}: {
  v: View;
  scope: string;
  blockKey: string;
  address: string;
  target?: string;
  action?: string;
}): JSX.Element {
  return (
    <button
      type="button"
      class="btn small"
      hx-post={action}
      hx-vals={JSON.stringify({ scope, key: blockKey })}
      hx-target={target}
      hx-swap="outerHTML"
      {...confirmAttrs(v.t.console.actions.unblock, v.t.attention.confirmUnblock(address))}
      data-unblock={`${scope}:${blockKey}`}
    >
      <Icon name="key" />
      <span safe>{v.t.attention.unblock}</span>
    </button>
  );
}

function BannerItem({ v, b }: { v: View; b: Banner }): JSX.Element {
  const a = v.t.attention;
  switch (b.kind) {
    case "failing":
      return (
        <li data-banner="failing">
          <strong safe>{a.failingTitle}</strong>
          <SlotLinks v={v} slots={b.slots} />
          <p safe>{a.failingHint}</p>
          <AckButton v={v} b={b} />
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
          <AckButton v={v} b={b} />
        </li>
      );
    case "blocked":
      return (
        <li data-banner="blocked">
          <strong safe>{a.blockedTitle}</strong>
          <ul class="attention-slots">
            {b.blocks.map((k) => (
              <li data-block={`${k.scope}:${k.key}`}>
                <span safe>
                  {`${a.blockedLine(k.address, k.failures, fmtSince(v, k.since))}${k.afterRotation ? ` — ${a.blockedStale}` : ""}`}
                </span>
                {can(v, "settings:write") ? (
                  <UnblockButton v={v} scope={k.scope} blockKey={k.key} address={k.address} />
                ) : (
                  ""
                )}
                <AckButton v={v} b={b} />
              </li>
            ))}
          </ul>
          <p safe>{a.blockedHint}</p>
          <AckButton v={v} b={b} />
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
          <AckButton v={v} b={b} />
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
          <AckButton v={v} b={b} />
        </li>
      );
    case "database":
      return (
        <li data-banner="database">
          <strong safe>{a.databaseTitle}</strong> <span safe>{a.database}</span>
          <AckButton v={v} b={b} />
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

/**
 * The banner (or an empty, still polling placeholder) — swapped in place every 20 s. A <details>:
 * on a phone it is one collapsed line that opens with a tap (no script needed); on a wide screen
 * app.js opens it, and keeps it as the operator left it across the polls.
 */
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
        <details class="attention-box" data-attention>
          <summary>
            <Icon name="alert" />
            <h2 safe>{v.t.attention.title}</h2>
            <span class="attention-gist" safe>
              {banners.map((b) => headline(v, b)).join(" · ")}
            </span>
          </summary>
          <ul class="attention-list">
            {banners.map((b) => (
              <BannerItem v={v} b={b} />
            ))}
          </ul>
        </details>
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
