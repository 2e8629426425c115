/**
 * Style presets over the API: GET /api/presets (curated + operators'), POST /api/presets (save
 * slot settings as a preset), DELETE /api/presets/{id}; and each curated preset's SVG sample.
 */
import { Elysia } from "elysia";
import { isLang } from "../../../templates/i18n/index";
import { readJson } from "../../lib/validation";
import { curatedPreset } from "../../presets/catalogue";
import { sampleSvg } from "../../presets/sample";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { Preset, PresetList } from "./model";
import { createPreset, listAllPresets, removePreset } from "./service";

export const presetsModule = (services: Services) =>
  new Elysia({ name: "presets" })
    .get(
      "/presets/:id/sample.svg",
      ({ params }) => {
        const p = curatedPreset(params.id);
        if (!p) return new Response("Not Found", { status: 404 });
        return new Response(sampleSvg(p.id, p.art), {
          headers: {
            "Content-Type": "image/svg+xml; charset=utf-8",
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
          },
        });
      },
      { detail: { hide: true } },
    )
    .use(authPlugin(services))
    .get(
      "/api/presets",
      async ({ query }) => ({ data: await listAllPresets(services, isLang(query.lang) ? query.lang : "ru") }),
      {
        scope: "slots:read",
        detail: op({
          tag: "presets",
          summary: "Style presets: the curated set and the ones operators saved",
          description:
            "`?lang=ru|en` picks the prompts' language. Each preset has `variants` — {provider, operation, settings} " +
            "ready for PUT /api/slots/{id} — the first being its default.",
          scope: "slots:read",
          ok: { schema: PresetList },
        }),
      },
    )
    .post(
      "/api/presets",
      async ({ request, admin, set }) => {
        const body = (await readJson(request)) as Record<string, unknown>;
        const preset = await createPreset(
          services,
          {
            name: body?.name,
            provider: body?.provider,
            operation: body?.operation,
            settings: body?.settings,
          },
          admin.username,
        );
        set.status = 201;
        return preset;
      },
      {
        scope: "slots:write",
        parse: "none",
        detail: op({
          tag: "presets",
          summary: "Save slot settings as a preset",
          description:
            'Body: {"name", "provider", "operation", "settings"} — validated like a slot (422 per field).',
          scope: "slots:write",
          ok: { status: 201, description: "Saved", schema: Preset },
          errors: [400, 422],
        }),
      },
    )
    .delete(
      "/api/presets/:id",
      async ({ params, admin, set }) => {
        await removePreset(services, params.id, admin.username);
        set.status = 204;
        return null;
      },
      {
        scope: "slots:write",
        detail: op({
          tag: "presets",
          summary: "Delete an operator's preset (curated ones: 409 preset_read_only)",
          scope: "slots:write",
          errors: [404, 409],
        }),
      },
    );
