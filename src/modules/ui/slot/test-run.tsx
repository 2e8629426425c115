/** @jsxImportSource @kitajs/html */
/** The slot page's test run: a photo through the slot (with the form's unsaved settings), the result inline. */
import { Elysia } from "elysia";
import type { Server } from "elysia/universal";
import { TestResult } from "../../../../templates/pages/slot/test-run";
import { clientAddress } from "../../../lib/client";
import { AppError } from "../../../lib/errors";
import { linkBaseFor } from "../../../lib/urls";
import type { Services } from "../../../services";
import { MB, readUpload } from "../../ingest/service";
import { findSlot, runTest } from "../../slots/service";
import { uiContext } from "../context";
import { errorLine } from "../field-errors";
import { providerLabel } from "../labels";
import { render } from "../render";
import { differsFromSaved, readSlotForm, type Values } from "./form-model";

/** The test form's booth field rows (name + value inputs); rows without a name are left out. */
function testFields(values: Values): Record<string, string> {
  const list = (x: string | string[] | undefined) => (x === undefined ? [] : ([] as string[]).concat(x));
  const names = list(values.test_field_name);
  const vals = list(values.test_field_value);
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name.trim()) out[name.trim()] = vals[i] ?? "";
  });
  return out;
}

export const uiSlotTestRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot-test" }).use(uiContext(services)).post(
    "/slots/:id/test",
    async ({ params, view, admin, request, server }) => {
      const started = performance.now();
      try {
        const slot = await findSlot(services, params.id);
        const upload = await readUpload(request, slot.sizeLimitMb * MB, ["test_image"]);
        const values: Values = {};
        for (const [k, val] of upload.fields) {
          if (typeof val !== "string") continue;
          const prev = values[k];
          values[k] = prev === undefined ? val : ([] as string[]).concat(prev, val);
        }
        const s = readSlotForm(services, values);
        const overrides =
          values.provider === undefined
            ? null
            : JSON.stringify({
                provider: s.provider,
                operation: s.operation,
                settings: s.settings,
                fallback: s.fallback,
                output_format: s.outputFormat,
              });
        // a green test of settings that are not saved must not pass for the booth's configuration
        const unsaved = values.provider !== undefined && differsFromSaved(services, s, slot);
        const result = await runTest(
          services,
          params.id,
          {
            upload,
            overrides,
            fields: JSON.stringify(testFields(values)),
            by: admin.username,
            clientIp: clientAddress(server as Server | null, request),
            signal: request.signal,
            hold: (seconds) => server?.timeout(request, seconds),
          },
          await linkBaseFor(services.settings, request),
        );
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        return render(
          <TestResult
            v={view}
            r={{
              ok: true,
              jobId: result.job_id,
              seconds,
              queueWaitMs: result.durations.queue_wait_ms,
              providerMs: result.durations.provider_ms,
              totalMs: result.durations.total_ms,
              unsaved,
              viaFallback: result.fallback_used
                ? providerLabel(services, result.served_provider, view.lang)
                : undefined,
            }}
          />,
        );
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const detail = errorLine(view, err);
        // the provider's own (sanitized) words help the operator more than the generic line; they
        // are quoted as the provider's, not passed off as our text
        const raw = err.code === "provider_error" && err.message ? err.message : undefined;
        return render(<TestResult v={view} r={{ ok: false, error: detail, raw }} />, {
          status: err.status >= 500 ? 200 : err.status,
        });
      }
    },
    { page: "slots:write", parse: "none" },
  );
