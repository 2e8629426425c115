/** @jsxImportSource @kitajs/html */
/** The /system page's media card: where media live, whether the bucket answers, what waits in the spool. */
import { Card, FactRow } from "./components";
import { fmtAgo, fmtBytes, fmtDateTime, type View } from "./view";

export interface MediaStorageModel {
  backend: "local" | "s3";
  location: string;
  /** When the bucket's calls began to fail (null: answering), and why. */
  failingSince: string | null;
  error: string | null;
  /** Results kept on this server's disk until the bucket takes them (bucket only). */
  spool: { files: number; bytes: number; maxBytes: number; oldest: string | null } | null;
}

function Pill({ ok, text }: { ok: boolean; text: string }): JSX.Element {
  return (
    <span class={ok ? "pill ok" : "pill failed"} data-ok={String(ok)}>
      <span safe>{text}</span>
    </span>
  );
}

export function MediaStorageCard({ v, m }: { v: View; m: MediaStorageModel }): JSX.Element {
  const s = v.t.mediaStore;
  return (
    <Card id="media-storage" title={s.title} hint={s.hint}>
      <table class="kv">
        <tbody>
          <FactRow label={s.where}>
            <span class="mono" safe>
              {m.backend === "s3" ? s.bucket(m.location) : s.local(m.location)}
            </span>
          </FactRow>
          {m.backend === "s3" ? (
            <>
              <FactRow label={s.state} attrs={{ "data-bucket": m.failingSince ? "failing" : "ok" }}>
                <Pill ok={!m.failingSince} text={m.failingSince ? s.unreachable : s.reachable} />
                {m.failingSince ? (
                  <>
                    {" "}
                    <time datetime={m.failingSince} title={fmtDateTime(v, m.failingSince)} safe>
                      {s.failingSince(fmtAgo(v, m.failingSince))}
                    </time>
                    {m.error ? (
                      <div class="muted small mono" safe>
                        {m.error}
                      </div>
                    ) : (
                      ""
                    )}
                  </>
                ) : (
                  ""
                )}
              </FactRow>
              <FactRow label={s.spool} attrs={{ "data-spool": String(m.spool?.files ?? 0) }}>
                {m.spool && m.spool.files > 0 ? (
                  <>
                    <span safe>
                      {s.spoolLine(m.spool.files, fmtBytes(v, m.spool.bytes), fmtBytes(v, m.spool.maxBytes))}
                    </span>
                    {m.spool.oldest ? (
                      <div class="muted small" safe>
                        {s.spoolOldest(fmtDateTime(v, m.spool.oldest))}
                      </div>
                    ) : (
                      ""
                    )}
                  </>
                ) : (
                  <span safe>{s.spoolEmpty}</span>
                )}
              </FactRow>
            </>
          ) : (
            ""
          )}
        </tbody>
      </table>
    </Card>
  );
}
