/** @jsxImportSource @kitajs/html */
/**
 * The slot page: configuration, templates, a test run with the result inline, the booth's
 * settings, recent results, refusals and recent jobs. Each card's template is in this folder and
 * takes only its part of the page's model.
 */
import type { SlotAttention } from "../../../src/domain/attention";
import { refusalText, SlotTrouble } from "../../attention";
import {
  Alert,
  CardsTable,
  type JobRowView,
  JobsTable,
  PageHead,
  PageNav,
  ResultCard,
  type ResultItem,
} from "../../components";
import { pt } from "../../i18n/providers";
import { Icon } from "../../icons";
import { Layout } from "../../layout";
import { type PresetCardView, PresetsCard } from "../../presets";
import { can, fmtDateTime, slotName, type View } from "../../view";
import {
  BoothCard,
  BoothFieldsCard,
  type BoothFieldView,
  PromptPreview,
  type PromptPreviewModel,
} from "./booth";
import { SlotForm, type SlotFormModel } from "./form";
import { type TemplateItem, TemplatesCard } from "./templates";
import { TestCard } from "./test-run";

export interface SlotPageModel {
  form: SlotFormModel;
  ingestUrl: string;
  syncSeconds: number;
  retentionHours: number;
  templates: TemplateItem[];
  results: ResultItem[];
  jobs: JobRowView[];
  warnings: string[];
  trouble?: SlotAttention;
  /** Refused booth requests per hour and reason (last 24 h). */
  refusals: { at: string; reason: string; count: number }[];
  presets?: PresetCardView[];
  /** Fields the booth sent with its recent jobs, and how many jobs were looked at. */
  boothFields: BoothFieldView[];
  boothFieldJobs: number;
  preview: PromptPreviewModel;
}

/** Refused booth requests of the slot, per hour and reason. */
function RefusalsCard({ v, refusals }: { v: View; refusals: SlotPageModel["refusals"] }): JSX.Element {
  return (
    <section class="card" id="refusals">
      <div class="card-head">
        <h2 safe>{v.t.attention.refusalsTitleSlot}</h2>
        <span class="hint" safe>
          {v.t.slot.refusalsHint}
        </span>
      </div>
      {refusals.length ? (
        <CardsTable
          rows={refusals}
          rowAttrs={(r) => ({ "data-reason": r.reason })}
          columns={[
            { label: v.t.slot.refusalHour, text: (r) => fmtDateTime(v, r.at) },
            { label: v.t.jobs.reason, text: (r) => refusalText(v, r.reason) },
            { label: v.t.slot.refusalCount, num: true, text: (r) => String(r.count) },
          ]}
        />
      ) : (
        <p class="muted" safe>
          {v.t.attention.refusalsEmpty}
        </p>
      )}
    </section>
  );
}

/** The slot's configuration warnings (swapped out of band when a save or an upload changes them). */
export function SlotWarnings({
  v,
  warnings,
  labels = {},
  oob,
}: {
  v: View;
  warnings: string[];
  /** Template role → its name in the page's language. */
  labels?: Record<string, string>;
  oob?: boolean;
}): JSX.Element {
  return (
    <div id="slot-warnings" hx-swap-oob={oob ? "true" : undefined}>
      {warnings.map((w) => (
        <Alert kind="warn">
          <span safe>
            {w.startsWith("template_missing:")
              ? v.t.slot.templateMissing(
                  labels[w.slice("template_missing:".length)] ?? w.slice("template_missing:".length),
                )
              : (v.t.slot.warnings[w] ?? v.t.slot.warningUnknown)}
          </span>
        </Alert>
      ))}
    </div>
  );
}

/** Downloads every kept result of the slot with an index (GET /api/slots/{id}/export). */
export function ExportButton({ v, slotId }: { v: View; slotId: string }): JSX.Element {
  return (
    <a
      class="btn small ghost"
      href={`/api/slots/${slotId}/export`}
      download=""
      title={v.t.slot.exportHint}
      data-export={slotId}
    >
      <Icon name="download" />
      <span safe>{v.t.slot.exportZip}</span>
    </a>
  );
}

function testFieldNames(m: SlotPageModel): string[] {
  const names = [...m.preview.placeholders];
  for (const f of m.boothFields) if (!names.includes(f.name)) names.push(f.name);
  return names;
}

export function SlotPage({ v, m }: { v: View; m: SlotPageModel }): JSX.Element {
  const f = m.form;
  return (
    <Layout v={v} title={`${slotName(v, f.name)} · ${f.slotId}`}>
      <PageHead
        back={{ href: "/", label: v.t.slot.back }}
        eyebrow={`${v.t.slot.eyebrow} ${f.slotId}`}
        title={slotName(v, f.name)}
      >
        <div class="row">
          {can(v, "stats:read") ? (
            <a class="btn small ghost" href={`/stats/slots/${f.slotId}`}>
              <Icon name="stats" />
              <span safe>{v.t.stats.slotTitle}</span>
            </a>
          ) : (
            ""
          )}
          <span class={f.enabled ? "pill ok" : "pill off"} safe>
            {f.enabled ? v.t.common.enabled : v.t.common.disabled}
          </span>
        </div>
      </PageHead>
      <PageNav
        v={v}
        links={[
          ["#slot-form", v.t.slot.settingsTitle],
          ...(can(v, "slots:write") ? [["#test-card", v.t.slot.testTitle] as [string, string]] : []),
          ["#booth-card", v.t.slot.boothTitle],
          ...(m.presets ? [["#presets-card", pt(v).presets.title] as [string, string]] : []),
          ["#recent-results", v.t.slot.recentResults],
          ["#recent-jobs", v.t.slot.recentJobs],
        ]}
      />
      <SlotTrouble v={v} s={m.trouble} />
      <SlotWarnings
        v={v}
        warnings={m.warnings}
        labels={Object.fromEntries(m.form.templateNeeds.map((n) => [n.role, n.label]))}
      />
      <div class="grid-2">
        <div>
          <SlotForm v={v} m={f} />
          <TemplatesCard v={v} slotId={f.slotId} needs={f.templateNeeds} templates={m.templates} />
        </div>
        <div>
          {can(v, "slots:write") ? <TestCard v={v} slotId={f.slotId} fieldNames={testFieldNames(m)} /> : ""}
          <BoothCard v={v} ingestUrl={m.ingestUrl} syncSeconds={m.syncSeconds} />
          <BoothFieldsCard v={v} fields={m.boothFields} jobsLookedAt={m.boothFieldJobs} />
          <section class="card">
            <PromptPreview v={v} p={m.preview} />
          </section>
        </div>
      </div>
      {m.presets ? <PresetsCard v={v} slotId={f.slotId} presets={m.presets} /> : ""}
      <section class="card" id="recent-results">
        <div class="card-head">
          <h2 safe>{v.t.slot.recentResults}</h2>
          <span class="hint" safe>
            {v.t.slot.recentResultsHint(m.retentionHours)}
          </span>
          {can(v, "stats:read") ? <ExportButton v={v} slotId={f.slotId} /> : ""}
        </div>
        {m.results.length ? (
          <div class="gallery">
            {m.results.map((r) => (
              <ResultCard v={v} r={r} />
            ))}
          </div>
        ) : (
          <p class="muted" safe>
            {v.t.slot.noRecentResults}
          </p>
        )}
      </section>
      <RefusalsCard v={v} refusals={m.refusals} />
      <section class="card" id="recent-jobs">
        <div class="card-head">
          <h2 safe>{v.t.slot.recentJobs}</h2>
          <a class="btn small ghost" href={`/jobs?slot=${f.slotId}`} safe>
            {v.t.nav.jobs}
          </a>
        </div>
        {m.jobs.length ? (
          <JobsTable v={v} jobs={m.jobs} />
        ) : (
          <p class="muted" safe>
            {v.t.slot.noRecentJobs}
          </p>
        )}
      </section>
    </Layout>
  );
}
