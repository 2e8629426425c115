/** @jsxImportSource @kitajs/html */
/** The gallery of all slots (admin), its public share link, and the guests' view of a shared gallery. */
import { AlertText, CopyInput, PageHead, ResultCard, type ResultItem } from "../components";
import { Icon } from "../icons";
import { BareLayout, LangSwitch, Layout } from "../layout";
import { can, fmtDateTime, slotName, type View } from "../view";
import { GuestMessage } from "./share";
import { ExportButton } from "./slot/page";

export interface GallerySlot {
  id: string;
  name: string;
  enabled: boolean;
  provider: string;
  operation: string;
  results: ResultItem[];
}

export interface ShareLinkView {
  id: string;
  url: string;
  expiresAt: Date;
  createdBy: string;
}

function SlotGroups({ v, slots }: { v: View; slots: GallerySlot[] }): JSX.Element {
  return (
    <>
      {slots.map((s) => (
        <details class="card slot-group" open={s.results.length > 0} data-slot={s.id}>
          <summary>
            <strong safe>{slotName(v, s.name)}</strong>
            <span class="slot-id" safe>
              {s.id}
            </span>
            <span class="muted small" safe>{`${s.provider} · ${s.operation}`}</span>
            <span class="spacer"></span>
            <span class="pill" safe>
              {v.t.gallery.results(s.results.length)}
            </span>
            <span class={s.enabled ? "pill ok" : "pill off"} safe>
              {s.enabled ? v.t.common.enabled : v.t.common.disabled}
            </span>
          </summary>
          <div class="inner">
            {can(v, "stats:read") ? (
              <div class="row">
                <ExportButton v={v} slotId={s.id} />
              </div>
            ) : (
              ""
            )}
            {s.results.length ? (
              <div class="gallery">
                {s.results.map((r) => (
                  <ResultCard v={v} r={r} />
                ))}
              </div>
            ) : (
              <p class="muted" safe>
                {v.t.gallery.empty}
              </p>
            )}
          </div>
        </details>
      ))}
    </>
  );
}

/** What guests see of a shared gallery: the slot's display name and its booth photos, nothing internal. */
function GuestGroups({ v, slots }: { v: View; slots: GallerySlot[] }): JSX.Element {
  if (!slots.length) {
    return (
      <p class="card muted" safe>
        {v.t.gallery.empty}
      </p>
    );
  }
  return (
    <>
      {slots.map((s, i) => (
        <section class="card slot-group guest" data-group={String(i + 1)}>
          <h2 safe>{slotName(v, s.name)}</h2>
          <div class="gallery">
            {s.results.map((r) => (
              <article class="result-card" data-result>
                <a href={`/r/${r.jobId}`}>
                  <img src={`/public/results/${r.jobId}/thumb`} alt={v.t.share.title} loading="lazy" />
                </a>
                <div class="body">
                  <div class="actions">
                    <a class="btn small" href={`/public/results/${r.jobId}?download=1`} download="">
                      <Icon name="download" />
                      <span safe>{v.t.common.download}</span>
                    </a>
                  </div>
                </div>
              </article>
            ))}
          </div>
        </section>
      ))}
    </>
  );
}

export function ShareCard({
  v,
  links,
  message,
}: {
  v: View;
  links: ShareLinkView[];
  message?: string;
}): JSX.Element {
  const writable = can(v, "slots:write");
  return (
    <section class="card" id="share-card">
      <h2>
        <Icon name="link" /> <span safe>{v.t.gallery.shareTitle}</span>
      </h2>
      <p class="hint" safe>
        {`${v.t.gallery.shareHint} ${v.t.gallery.shareRateHint}`}
      </p>
      <AlertText kind="success" text={message} />
      {links.length ? (
        links.map((l) => (
          <div class="stack share-link" data-share-id={l.id}>
            <CopyInput v={v} id={`share-${l.id}`} value={l.url} label={v.t.gallery.shareTitle} />
            <div class="row small">
              <span class="muted" safe>
                {v.t.gallery.shareActive(fmtDateTime(v, l.expiresAt))}
              </span>
              <span class="spacer"></span>
              {writable ? (
                <button
                  type="button"
                  class="btn small danger ghost"
                  hx-post={`/gallery/share/${l.id}/revoke`}
                  hx-target="#share-card"
                  hx-swap="outerHTML"
                  safe
                >
                  {v.t.gallery.shareRevoke}
                </button>
              ) : (
                ""
              )}
            </div>
          </div>
        ))
      ) : (
        <p class="muted small" safe>
          {v.t.gallery.shareNone}
        </p>
      )}
      {writable ? (
        <form class="row" hx-post="/gallery/share" hx-target="#share-card" hx-swap="outerHTML">
          <label for="share-minutes" class="sr-only" safe>
            {v.t.gallery.shareFor}
          </label>
          <select id="share-minutes" name="minutes" class="auto-width">
            {Object.entries(v.t.gallery.shareDurations).map(([m, label]) => (
              <option value={m} selected={m === "60"} safe>
                {label}
              </option>
            ))}
          </select>
          <button class="btn" type="submit">
            <Icon name="share" />
            <span safe>{v.t.gallery.shareCreate}</span>
          </button>
        </form>
      ) : (
        ""
      )}
    </section>
  );
}

export function GalleryPage({
  v,
  slots,
  links,
}: {
  v: View;
  slots: GallerySlot[];
  links: ShareLinkView[];
}): JSX.Element {
  return (
    <Layout v={v} title={v.t.gallery.title}>
      <PageHead eyebrow={v.t.gallery.eyebrow} title={v.t.gallery.title} sub={v.t.gallery.sub} />
      <ShareCard v={v} links={links} />
      <SlotGroups v={v} slots={slots} />
    </Layout>
  );
}

export function PublicGalleryPage({
  v,
  slots,
  expiresAt,
}: {
  v: View;
  slots: GallerySlot[];
  expiresAt: Date;
}): JSX.Element {
  return (
    <BareLayout v={v} title={v.t.gallery.publicTitle}>
      <main>
        <PageHead
          eyebrow={v.t.app.name}
          title={v.t.gallery.publicTitle}
          sub={v.t.gallery.publicSub(fmtDateTime(v, expiresAt))}
        >
          <LangSwitch v={v} />
        </PageHead>
        <GuestGroups v={v} slots={slots.filter((s) => s.results.length > 0)} />
      </main>
    </BareLayout>
  );
}

export function PublicGalleryGone({ v, throttled }: { v: View; throttled: boolean }): JSX.Element {
  return (
    <GuestMessage
      v={v}
      title={v.t.gallery.publicTitle}
      message={throttled ? v.t.gallery.publicThrottled : v.t.gallery.publicExpired}
      status={throttled ? 429 : 410}
    />
  );
}
