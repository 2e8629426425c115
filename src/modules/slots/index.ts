/**
 * The slot API: list, read (ETag = version), update (If-Match), test run, templates, stats reset.
 * Bodies are read after authentication (`parse: "none"`), then validated by the service.
 */
import { Elysia, t } from "elysia";
import type { Server } from "elysia/universal";
import { clientAddress } from "../../lib/client";
import { linkBaseFor } from "../../lib/urls";
import { readJson } from "../../lib/validation";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { MB, readUpload } from "../ingest/service";
import { multipart, op } from "../openapi/docs";
import {
  SlotDetail,
  SlotUpdate,
  SlotView,
  TemplateView,
  TestRunFields,
  TestRunOverrides,
  TestRunResult,
} from "./model";
import {
  addTemplate,
  findSlot,
  getSlot,
  listSlots,
  removeTemplate,
  resetStats,
  runTest,
  slotView,
  templateFile,
  updateSlot,
} from "./service";

const slotParams = t.Object({ id: t.String({ description: "slot-001 … slot-015" }) });
const templateParams = t.Object({ id: t.String(), tid: t.String({ description: "Template id" }) });

const etag = (version: number) => `"${version}"`;

export const slotsModule = (services: Services) =>
  new Elysia({ name: "slots" })
    .use(authPlugin(services))
    .get(
      "/api/slots",
      async ({ request }) => ({
        data: await listSlots(services, await linkBaseFor(services.settings, request)),
      }),
      {
        scope: "slots:read",
        detail: op({
          tag: "slots",
          summary: "The 15 slots with their ingest URLs",
          scope: "slots:read",
          ok: { schema: t.Object({ data: t.Array(SlotView) }) },
        }),
      },
    )
    .get(
      "/api/slots/:id",
      async ({ params, request, set }) => {
        const detail = await getSlot(services, params.id, await linkBaseFor(services.settings, request));
        set.headers.etag = etag(detail.version);
        set.headers["cache-control"] = "no-store";
        return detail;
      },
      {
        scope: "slots:read",
        params: slotParams,
        detail: op({
          tag: "slots",
          summary: "One slot: settings, templates, up to 10 recent results, stats since the last reset",
          description: 'Answers with `ETag: "<version>"`; send it back as `If-Match` when saving.',
          scope: "slots:read",
          ok: { schema: SlotDetail },
          errors: [404],
        }),
      },
    )
    .put(
      "/api/slots/:id",
      async ({ params, request, admin, set }) => {
        const row = await updateSlot(services, params.id, await readJson(request), {
          ifMatch: request.headers.get("if-match"),
          by: admin.username,
        });
        set.headers.etag = etag(row.version);
        return slotView(row, await linkBaseFor(services.settings, request));
      },
      {
        scope: "slots:write",
        parse: "none",
        params: slotParams,
        detail: op({
          tag: "slots",
          summary: "Update a slot (optimistic concurrency with If-Match)",
          description:
            "Every key is optional; missing keys keep their value. Provider, operation and settings are " +
            'validated against GET /api/providers. A stale `If-Match: "<version>"` is refused with 409.',
          scope: "slots:write",
          body: { schema: SlotUpdate },
          ok: { schema: SlotView },
          errors: [400, 404, 409, 413, 422],
        }),
      },
    )
    .post(
      "/api/slots/:id/test-run",
      async ({ params, request, admin, server }) => {
        const slot = await findSlot(services, params.id);
        const upload = await readUpload(request, slot.sizeLimitMb * MB, ["test_image"]);
        const overrides = upload.fields.get("overrides");
        const fields = upload.fields.get("fields");
        return runTest(
          services,
          params.id,
          {
            upload,
            overrides: typeof overrides === "string" ? overrides : null,
            fields: typeof fields === "string" ? fields : null,
            by: admin.username,
            clientIp: clientAddress(server as Server | null, request),
            signal: request.signal,
            hold: (seconds) => server?.timeout(request, seconds),
          },
          await linkBaseFor(services.settings, request),
        );
      },
      {
        scope: "slots:write",
        parse: "none",
        params: slotParams,
        detail: op({
          tag: "slots",
          summary: "Run a test photo through the queue and wait for the result",
          description:
            "Same queue and workers as the booth (source `test_run`, no ingest password). `overrides` is " +
            "an optional JSON string with unsaved `provider`, `operation`, `settings`, `output_format`; " +
            "`fields` an optional JSON object of booth field values for the prompt's `{field}` placeholders. " +
            "Failures answer like the booth's: 504 sync_timeout, 502 provider_error, 422 provider_blocked, " +
            "503 job_cancelled.",
          scope: "slots:write",
          body: {
            schema: multipart(
              "test_image",
              { overrides: TestRunOverrides, fields: TestRunFields },
              "JPEG, PNG, WebP or HEIC",
            ),
            contentType: "multipart/form-data",
          },
          ok: { schema: TestRunResult },
          errors: [400, 404, 413, 415, 422, 429, 502, 503, 504, 507],
        }),
      },
    )
    .post(
      "/api/slots/:id/reset_stats",
      async ({ params, admin }) => {
        const row = await resetStats(services, params.id, admin.username);
        return { slot_id: row.id, stats_reset_at: row.statsResetAt?.toISOString() ?? null };
      },
      {
        scope: "slots:write",
        params: slotParams,
        detail: op({
          tag: "slots",
          summary: "Reset the slot's statistics summary (counts start again from now)",
          scope: "slots:write",
          ok: {
            schema: t.Object({ slot_id: t.String(), stats_reset_at: t.String({ format: "date-time" }) }),
          },
          errors: [404],
        }),
      },
    )
    .post(
      "/api/slots/:id/templates",
      async ({ params, request, admin, set }) => {
        const slot = await findSlot(services, params.id);
        const upload = await readUpload(request, slot.sizeLimitMb * MB, ["file"]);
        const role = upload.fields.get("role");
        const view = await addTemplate(services, params.id, { upload, role, by: admin.username });
        set.status = 201;
        return view;
      },
      {
        scope: "slots:write",
        parse: "none",
        params: slotParams,
        detail: op({
          tag: "slots",
          summary: "Upload a template image for a role (style, face…)",
          description:
            "Limited to the slot's size limit; the type is decided by magic bytes. Never creates a job.",
          scope: "slots:write",
          body: {
            schema: multipart("file", { role: t.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }) }),
            contentType: "multipart/form-data",
          },
          ok: { status: 201, schema: TemplateView },
          errors: [400, 404, 413, 415, 422],
        }),
      },
    )
    .delete(
      "/api/slots/:id/templates/:tid",
      async ({ params, query, admin, set }) => {
        await removeTemplate(services, params.id, params.tid, {
          force: query.force === "true" || query.force === "1",
          by: admin.username,
        });
        set.status = 204;
      },
      {
        scope: "slots:write",
        params: templateParams,
        query: t.Object({
          force: t.Optional(
            t.String({ description: "true: delete even the last template the operation needs" }),
          ),
        }),
        detail: op({
          tag: "slots",
          summary: "Delete a template",
          scope: "slots:write",
          ok: { status: 204, description: "Deleted" },
          errors: [404, 409],
        }),
      },
    )
    .get(
      "/api/slots/:id/templates/:tid/preview",
      async ({ params }) => {
        const file = await templateFile(services, params.id, params.tid);
        return new Response(file.body, {
          headers: {
            "Content-Type": file.mime,
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
          },
        });
      },
      {
        scope: "slots:read",
        params: templateParams,
        detail: op({
          tag: "slots",
          summary: "A template image (admins only)",
          scope: "slots:read",
          ok: { description: "The image", contentType: "image/*" },
          errors: [404],
        }),
      },
    );
