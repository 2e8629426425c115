/**
 * A provider for admin tests whose operations behave in fixed ways: one needs a `style` template
 * and a prompt, one is refused by a "safety filter", one fails upstream. It stands in for the AI
 * services at the provider interface, like the wire-format fakes do at HTTP.
 */
import { Type } from "@sinclair/typebox";
import {
  type Provider,
  type ProviderContext,
  ProviderFailure,
  type ProviderId,
} from "../../src/providers/types";

const settings = Type.Object(
  {
    prompt: Type.Optional(Type.String({ maxLength: 2000 })),
    strength: Type.Optional(Type.Integer({ minimum: 0, maximum: 80 })),
  },
  { additionalProperties: false },
);

export const SCRIPTED_ID = "scripted" as ProviderId;

export const scriptedProvider: Provider = {
  spec: {
    id: SCRIPTED_ID,
    label: "Scripted (tests)",
    needsPublicUrl: true,
    acceptsHeic: false,
    needsApiKey: false,
    downscaleInputs: false,
    operations: [
      {
        id: "styled",
        label: { ru: "Стиль", en: "Styled" },
        prompt: "required",
        templates: [{ role: "style", required: true, label: { ru: "Стиль", en: "Style" } }],
        needsTestPhoto: true,
        settings,
      },
      {
        id: "blocked",
        label: { ru: "Блок", en: "Blocked" },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings,
      },
      {
        id: "broken",
        label: { ru: "Сбой", en: "Broken" },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings,
      },
    ],
  },
  async run(ctx: ProviderContext) {
    if (ctx.operation === "blocked")
      throw new ProviderFailure("provider_blocked", "The safety filter refused the image");
    if (ctx.operation === "broken") throw new ProviderFailure("provider_error", "Upstream answered 500");
    if (!ctx.templates.some((t) => t.role === "style"))
      throw new ProviderFailure("invalid_config", "no style template");
    return ctx.photo;
  },
};
