/** @jsxImportSource @kitajs/html */
/** A readable error page (404, 403, CSRF refusal), with or without a session. */
import { Layout } from "../layout";
import type { View } from "../view";
import { GuestMessage } from "./share";

export function ErrorPage({
  v,
  message,
  title,
  status,
}: {
  v: View;
  message: string;
  title?: string;
  status?: number;
}): JSX.Element {
  const heading = title ?? v.t.errors.title;
  if (!v.user) {
    return (
      <GuestMessage v={v} title={heading} message={message} status={status}>
        <a class="btn" href="/" safe>
          {v.t.errors.goHome}
        </a>
      </GuestMessage>
    );
  }
  return (
    <Layout v={v} title={heading}>
      <div class="card error-card" data-status={status === undefined ? undefined : String(status)}>
        <h1 safe>{heading}</h1>
        <p safe>{message}</p>
        <a class="btn" href="/" safe>
          {v.t.errors.goHome}
        </a>
      </div>
    </Layout>
  );
}
