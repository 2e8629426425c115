/** GET /api/providers: the provider/operation catalogue the slot form is generated from. */
import { Elysia } from "elysia";
import type { Runtime } from "../../runtime";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";

export function providerCatalogue(rt: Runtime) {
  return rt.providers.list().map(({ spec }) => ({
    id: spec.id,
    label: spec.label,
    needs_public_url: spec.needsPublicUrl,
    needs_api_key: spec.needsApiKey,
    accepts_heic: spec.acceptsHeic,
    operations: spec.operations.map((op) => ({
      id: op.id,
      label: op.label,
      hint: op.hint ?? null,
      prompt: op.prompt,
      templates: op.templates,
      needs_test_photo: op.needsTestPhoto,
      settings_schema: op.settings,
    })),
  }));
}

export const providersModule = (rt: Runtime) =>
  new Elysia({ name: "providers" })
    .use(authPlugin(rt))
    .get("/api/providers", () => ({ data: providerCatalogue(rt) }), {
      scope: "slots:read",
      detail: op({
        tag: "providers",
        summary: "The provider/operation catalogue (what each operation needs, its settings schema)",
        scope: "slots:read",
      }),
    });
