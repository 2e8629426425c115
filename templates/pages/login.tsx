/** @jsxImportSource @kitajs/html */
/** The sign-in page: username, password with show/hide, clear errors, the throttling message. */
import { Alert, AlertText, PasswordInput } from "../components";
import { BareLayout } from "../layout";
import type { View } from "../view";
import { GuestHead } from "./share";

export interface LoginState {
  next: string;
  username?: string;
  error?: string;
  notice?: string;
}

export function LoginForm({ v, s }: { v: View; s: LoginState }): JSX.Element {
  return (
    <form
      id="login-form"
      method="post"
      action="/login"
      hx-post="/login"
      hx-target="this"
      hx-swap="outerHTML"
      novalidate
    >
      <input type="hidden" name="next" value={s.next} />
      {s.error ? (
        <Alert kind="error" id="login-error">
          <span safe>{s.error}</span>
        </Alert>
      ) : (
        ""
      )}
      <AlertText kind="info" text={s.notice && !s.error ? s.notice : undefined} />
      <div class="field">
        <label for="username" safe>
          {v.t.login.username}
        </label>
        <input
          type="text"
          id="username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck="false"
          required
          value={s.username ?? ""}
          placeholder={v.t.login.usernamePlaceholder}
          autofocus={!s.username}
        />
      </div>
      <div class="field">
        <label for="password" safe>
          {v.t.login.password}
        </label>
        <PasswordInput v={v} id="password" name="password" autocomplete="current-password" />
      </div>
      <button class="btn block" type="submit">
        <span safe>{v.t.login.submit}</span>
      </button>
    </form>
  );
}

export function LoginPage({ v, s }: { v: View; s: LoginState }): JSX.Element {
  return (
    <BareLayout v={v} title={v.t.login.title}>
      <main class="center-page">
        <div class="card login-card">
          <GuestHead v={v} class="row login-head" />
          <h1 safe>{v.t.login.hello}</h1>
          <p class="muted" safe>
            {v.t.login.hint}
          </p>
          <LoginForm v={v} s={s} />
        </div>
      </main>
    </BareLayout>
  );
}
