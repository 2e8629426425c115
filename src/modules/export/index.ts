/** GET /api/slots/{id}/export (scope `stats:read`): the slot's kept results and an index, as a ZIP stream. */
import { Elysia, t } from "elysia";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { exportSlot } from "./service";

export const exportModule = (services: Services) =>
  new Elysia({ name: "export" }).use(authPlugin(services)).get(
    "/api/slots/:id/export",
    async ({ params, query, admin }) => {
      const zip = await exportSlot(services, params.id, query, admin.username);
      return new Response(zip.body, {
        headers: {
          "Content-Type": "application/zip",
          "Content-Disposition": `attachment; filename="${zip.filename}"`,
          "Cache-Control": "no-store",
          "X-Export-Jobs": String(zip.jobs),
          "X-Export-Files": String(zip.files),
        },
      });
    },
    {
      scope: "stats:read",
      params: t.Object({ id: t.String({ description: "slot-001 … slot-015" }) }),
      query: t.Object({
        from: t.Optional(t.String({ description: "Jobs created from (ISO 8601 date or date-time)" })),
        to: t.Optional(t.String({ description: "Jobs created before (a date: to its end)" })),
      }),
      detail: op({
        tag: "slots",
        summary: "Download the slot's kept results as a ZIP with an index.csv",
        description:
          "Streams a ZIP (stored entries): `results/<created>_<job id>.<ext>` for every result still kept " +
          "(not expired or deleted), and `index.csv` with every finished job of the range — job id, times, " +
          "status, failure reason, source, provider, file, sha256, then the booth's fields. Without `from`, " +
          "everything still kept; without `to`, up to now.",
        scope: "stats:read",
        ok: { description: "The archive", contentType: "application/zip" },
        errors: [400, 404],
      }),
    },
  );
