/**
 * GET/PUT /api/settings and POST /api/media/cache/purge. Reading needs `settings:read`; changing
 * settings and purging need `settings:write` (serg, not igor).
 */
import { Elysia, t } from "elysia";
import { readJson } from "../../lib/validation";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { SettingsUpdate, SettingsViewSchema } from "./model";
import { getSettings, updateSettings } from "./service";

export const settingsModule = (services: Services) =>
  new Elysia({ name: "settings" })
    .use(authPlugin(services))
    .get(
      "/api/settings",
      async ({ set }) => {
        set.headers["cache-control"] = "no-store";
        return getSettings(services);
      },
      {
        scope: "settings:read",
        detail: op({
          tag: "settings",
          summary: "Runtime settings; secrets only as {is_set|configured, updated_at, updated_by}",
          scope: "settings:read",
          ok: { schema: SettingsViewSchema },
        }),
      },
    )
    .put(
      "/api/settings",
      async ({ request, admin, set }) => {
        const { settings } = await updateSettings(services, await readJson(request), admin.username);
        set.headers["cache-control"] = "no-store";
        return settings;
      },
      {
        scope: "settings:write",
        parse: "none",
        detail: op({
          tag: "settings",
          summary: "Change settings (every key optional)",
          description:
            "Ranges: sync_response_seconds 10–60, result_retention_hours 24–168, max_in_flight_jobs 1–200, " +
            "provider_concurrency 1–64 per provider. `provider_daily_limit`: requests per quota day per " +
            "provider (1–10,000,000, null = unlimited; Gemini's day ends at midnight Pacific time, OpenAI's " +
            "at midnight UTC, Turbotext's at midnight Moscow time). `ingest_password`: {value} (≥ 6 characters) or " +
            "{generate: true} — a generated password is returned once, in `ingest_password.value`. " +
            '`provider_keys`: {"gemini": {"api_key": "…"}}; an empty api_key clears it. ' +
            "`public_base_url`: http(s) URL, or null to fall back to PUBLIC_BASE_URL.",
          scope: "settings:write",
          body: { schema: SettingsUpdate },
          ok: { schema: SettingsViewSchema },
          errors: [400, 413, 422],
        }),
      },
    )
    .post(
      "/api/media/cache/purge",
      ({ admin, set }) => {
        const { started } = services.purges.start(admin.username);
        set.status = 202;
        return { status: started ? "started" : "already_running", trigger: "api" };
      },
      {
        scope: "settings:write",
        detail: op({
          tag: "settings",
          summary: "Run the cleaner now, in the background",
          description:
            "Deletes expired results, thumbnails and media objects, orphaned payloads; resolves stale jobs. " +
            "Templates are never purged. The run is recorded in cleanup_run.",
          scope: "settings:write",
          ok: {
            status: 202,
            schema: t.Object({
              status: t.Union([t.Literal("started"), t.Literal("already_running")]),
              trigger: t.Literal("api"),
            }),
          },
        }),
      },
    );
