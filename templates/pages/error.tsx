/** @jsxImportSource @kitajs/html */
/** A readable error page (404, 403, CSRF refusal), with or without a session. */
import { BareLayout, Layout } from "../layout";
import type { View } from "../view";

export function ErrorPage({ v, message }: { v: View; message: string }): JSX.Element {
  const body = (
    <div class="card" style="max-width:560px;margin:40px auto;text-align:center">
      <h1 safe>{v.t.errors.title}</h1>
      <p safe>{message}</p>
      <a class="btn" href="/" safe>
        {v.t.errors.goHome}
      </a>
    </div>
  );
  return v.user ? (
    <Layout v={v} title={v.t.errors.title}>
      {body}
    </Layout>
  ) : (
    <BareLayout v={v} title={v.t.errors.title}>
      <main>{body}</main>
    </BareLayout>
  );
}
