/** @jsxImportSource @kitajs/html */
/** The guest page of one result (public, phone-first): the image, a download button, the expiry. */
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
        <div class="row" style="justify-content:space-between;margin-bottom:12px">
          <span class="brand">
            <span class="logo">
              <Icon name="camera" />
            </span>
            <span safe>{v.t.app.name}</span>
          </span>
          <LangSwitch v={v} />
        </div>
        <h1 safe>{v.t.share.title}</h1>
        <img class="result" src={`/public/results/${jobId}`} alt={v.t.share.title} />
        <a
          class="btn block"
          href={`/public/results/${jobId}?download=1`}
          download=""
          style="max-width:360px;margin:0 auto"
        >
          <Icon name="download" />
          <span safe>{v.t.share.download}</span>
        </a>
        {expiresAt ? (
          <p class="muted" style="margin-top:14px">
            <Icon name="clock" /> <span safe>{v.t.share.expires(fmtDateTime(v, expiresAt))}</span>
          </p>
        ) : (
          ""
        )}
      </main>
    </BareLayout>
  );
}

export function ShareGone({ v, expired }: { v: View; expired: boolean }): JSX.Element {
  return (
    <BareLayout v={v} title={v.t.share.title}>
      <main class="share-page">
        <div class="card" style="margin-top:40px">
          <h1 safe>{v.t.share.title}</h1>
          <p safe>{expired ? v.t.share.expired : v.t.share.notFound}</p>
        </div>
      </main>
    </BareLayout>
  );
}
