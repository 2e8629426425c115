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

/** The studio's brand and the language switch at the top of every guest page. */
export function GuestHead({ v }: { v: View }): JSX.Element {
  return (
    <div class="guest-head">
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

export function ShareGone({ v, expired }: { v: View; expired: boolean }): JSX.Element {
  return (
    <GuestMessage
      v={v}
      title={expired ? v.t.share.expiredTitle : v.t.share.notFoundTitle}
      message={expired ? v.t.share.expired : v.t.share.notFound}
      status={expired ? 410 : 404}
    />
  );
}
