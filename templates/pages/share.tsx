/** @jsxImportSource @kitajs/html */
/** The guest page of one result (public, phone-first): the image, a download button, the expiry. */
import type { Children } from "@kitajs/html";
import { Icon } from "../icons";
import { BareLayout, LangSwitch } from "../layout";
import { fmtDateTime, type View } from "../view";

export function SharePage({
  v,
  jobId,
  expiresAt,
}: {
  v: View;
  jobId: string;
  expiresAt: Date | null;
}): JSX.Element {
  return (
    <BareLayout v={v} title={v.t.share.title}>
      <main class="share-page">
        <GuestHead v={v} />
        <h1 safe>{v.t.share.title}</h1>
        <img class="result" src={`/public/results/${jobId}`} alt={v.t.share.title} />
        <a class="btn block narrow-centered" href={`/public/results/${jobId}?download=1`} download="">
          <Icon name="download" />
          <span safe>{v.t.share.download}</span>
        </a>
        {expiresAt ? (
          <p class="muted gap-top">
            <Icon name="clock" /> <span safe>{v.t.share.expires(fmtDateTime(v, expiresAt))}</span>
          </p>
        ) : (
          ""
        )}
      </main>
    </BareLayout>
  );
}

/** The studio's brand and the language switch at the top of every guest page (and the login card). */
export function GuestHead({ v, class: cls = "guest-head" }: { v: View; class?: string }): JSX.Element {
  return (
    <div class={cls}>
      <span class="brand">
        <span class="logo">
          <Icon name="camera" />
        </span>
        <span safe>{v.t.app.name}</span>
      </span>
      <LangSwitch v={v} />
    </div>
  );
}

/** A branded dead end for guests (unknown or expired photo, closed gallery, unknown page). */
export function GuestMessage({
  v,
  title,
  message,
  status,
  children,
}: {
  v: View;
  title: string;
  message: string;
  status?: number;
  children?: Children;
}): JSX.Element {
  return (
    <BareLayout v={v} title={title}>
      <main class="share-page">
        <GuestHead v={v} />
        <div class="card gone-card" data-status={status === undefined ? undefined : String(status)}>
          <div class="gone-icon">
            <Icon name="image" />
          </div>
          <h1 safe>{title}</h1>
          <p safe>{message}</p>
          {children}
        </div>
        <p class="footer-note" safe>
          {v.t.app.tagline}
        </p>
      </main>
    </BareLayout>
  );
}

/** Why a guest's photo is not there: never was (or failed), kept no longer, or removed by the studio. */
export type GoneReason = "not_found" | "expired" | "deleted";

export function ShareGone({ v, why }: { v: View; why: GoneReason }): JSX.Element {
  const text = {
    not_found: { title: v.t.share.notFoundTitle, message: v.t.share.notFound, status: 404 },
    expired: { title: v.t.share.expiredTitle, message: v.t.share.expired, status: 410 },
    deleted: { title: v.t.share.deletedTitle, message: v.t.share.deleted, status: 410 },
  }[why];
  return <GuestMessage v={v} title={text.title} message={text.message} status={text.status} />;
}
