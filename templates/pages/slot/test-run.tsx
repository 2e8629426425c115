/** @jsxImportSource @kitajs/html */
/** The slot page's test run: a photo (and booth fields) through the slot, the result inline. */
import { Alert, DropZone } from "../../components";
import { Icon } from "../../icons";
import { fmtDuration, type View } from "../../view";

export interface TestOutcome {
  ok: boolean;
  jobId?: string;
  seconds?: string;
  queueWaitMs?: number | null;
  providerMs?: number | null;
  totalMs?: number | null;
  error?: string;
  /** The provider's own words about the failure (English, quoted as such). */
  raw?: string;
  /** The test ran with form values that differ from the saved slot. */
  unsaved?: boolean;
  /** The primary failed and this fallback provider (its label) made the result. */
  viaFallback?: string;
}

export function TestResult({ v, r }: { v: View; r: TestOutcome }): JSX.Element {
  if (!r.ok) {
    return (
      <div id="test-result" class="test-result">
        <Alert kind="error">
          <div>
            <strong safe>{v.t.slot.testFailed}</strong>: <span safe>{r.error ?? ""}</span>
            {r.raw ? (
              <div class="small">
                <span safe>{v.t.jobs.providerSaid}</span>{" "}
                <q class="raw" lang="en" translate="no" safe>
                  {r.raw}
                </q>
              </div>
            ) : (
              ""
            )}
          </div>
        </Alert>
      </div>
    );
  }
  return (
    <div id="test-result" class="test-result stack" data-job-id={r.jobId}>
      <Alert kind="success">
        <span safe>{v.t.slot.testOk(r.seconds ?? "")}</span>
      </Alert>
      {r.unsaved ? (
        <Alert kind="warn" id="test-unsaved">
          <span safe>{v.t.slot.testUnsaved}</span>
        </Alert>
      ) : (
        ""
      )}
      {r.viaFallback ? (
        <Alert kind="warn" id="test-fallback">
          <span safe>{v.t.slot.testViaFallback(r.viaFallback)}</span>
        </Alert>
      ) : (
        ""
      )}
      <a href={`/public/results/${r.jobId}`} target="_blank" rel="noopener">
        <img src={`/public/results/${r.jobId}`} alt={v.t.slot.testTitle} />
      </a>
      <p class="hint" safe>
        {v.t.slot.timings(
          fmtDuration(v, r.queueWaitMs),
          fmtDuration(v, r.providerMs),
          fmtDuration(v, r.totalMs),
        )}
      </p>
      <div class="row">
        <a class="btn small" href={`/public/results/${r.jobId}?download=1`} download="">
          <Icon name="download" />
          <span safe>{v.t.common.download}</span>
        </a>
        <a class="btn small ghost" href={`/r/${r.jobId}`} target="_blank" rel="noopener">
          <Icon name="share" />
          <span safe>{v.t.common.share}</span>
        </a>
      </div>
    </div>
  );
}

export function TestCard({
  v,
  slotId,
  fieldNames,
}: {
  v: View;
  slotId: string;
  /** The prompt's placeholders first, then the other fields the booth has sent. */
  fieldNames: string[];
}): JSX.Element {
  return (
    <section class="card" id="test-card">
      <h2>
        <Icon name="play" /> <span safe>{v.t.slot.testTitle}</span>
      </h2>
      <p class="hint" safe>
        {v.t.slot.testHint}
      </p>
      <form
        id="test-form"
        hx-post={`/slots/${slotId}/test`}
        hx-encoding="multipart/form-data"
        hx-include="#slot-form"
        hx-target="#test-result"
        hx-swap="outerHTML"
        hx-indicator="#test-progress"
        hx-disabled-elt="find button[type=submit]"
        data-timer
        class="stack"
      >
        <DropZone id="drop-test" name="test_image" label={v.t.slot.dropPhoto} />
        <fieldset class="bare" id="test-fields">
          <legend class="eyebrow" safe>
            {v.t.slot.testFields}
          </legend>
          <p class="hint" safe>
            {v.t.slot.testFieldsHint}
          </p>
          {[0, 1, 2].map((i) => (
            <div class="grid-2">
              <input
                type="text"
                name="test_field_name"
                maxlength="64"
                aria-label={v.t.slot.testFieldName}
                placeholder={v.t.slot.testFieldName}
                list="booth-field-names"
                value={fieldNames[i] ?? ""}
              />
              <input
                type="text"
                name="test_field_value"
                maxlength="2000"
                aria-label={v.t.slot.testFieldValue}
                placeholder={v.t.slot.testFieldValue}
              />
            </div>
          ))}
          <datalist id="booth-field-names">
            {fieldNames.map((n) => (
              <option value={n} />
            ))}
          </datalist>
        </fieldset>
        <div class="row">
          <button class="btn" type="submit" disabled data-needs-file>
            <Icon name="play" />
            <span safe>{v.t.slot.runTest}</span>
          </button>
          <div class="progress" id="test-progress" role="status">
            <span class="spinner"></span>
            <span safe>{v.t.slot.running}</span>
            <span class="muted small">
              <span safe>{v.t.slot.elapsed}</span> <span data-elapsed>0.0</span>
            </span>
          </div>
        </div>
      </form>
      <div id="test-result"></div>
    </section>
  );
}
