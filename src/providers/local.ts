/**
 * The offline provider: Bun.Image transforms, so a studio can rehearse booth → server → print
 * with no keys and no internet. `simulate_delay_ms` lets the operator rehearse a slow AI (and the
 * booth's fallback when the deadline passes).
 */
import { type TObject, Type } from "@sinclair/typebox";
import { sleepOn } from "../lib/clock";
import { headerPixels, MIME, sniffImage, withDecodeSlot } from "../media/images";
import { type Provider, type ProviderContext, ProviderFailure, type ProviderImage } from "./types";

const delay = Type.Integer({
  minimum: 0,
  maximum: 120_000,
  default: 0,
  title: "Simulated processing time, ms",
  description: "Pause before answering, to rehearse a slow AI and the booth's timeout.",
});
const prompt = Type.Optional(Type.String({ maxLength: 4000, title: "Prompt (ignored)" }));

const schema = (extra: Record<string, ReturnType<typeof Type.Integer | typeof Type.Number>> = {}): TObject =>
  Type.Object({ prompt, simulate_delay_ms: delay, ...extra }, { additionalProperties: false });

async function transform(ctx: ProviderContext, build: (img: Bun.Image) => Bun.Image): Promise<ProviderImage> {
  const { photo } = ctx;
  if (photo.format === "heic") {
    throw new ProviderFailure(
      "provider_error",
      "The local provider cannot decode HEIC photos on this server",
    );
  }
  const img = build(new Bun.Image(photo.bytes));
  const encoded =
    photo.format === "png" ? img.png() : photo.format === "webp" ? img.webp() : img.jpeg({ quality: 92 });
  let bytes: Uint8Array;
  try {
    bytes = await withDecodeSlot(() => encoded.bytes(), headerPixels(photo.bytes));
  } catch (err) {
    throw new ProviderFailure(
      "provider_error",
      `The photo could not be decoded: ${(err as Error).message ?? err}`,
    );
  }
  const format = sniffImage(bytes) ?? photo.format;
  return { bytes, format, mime: MIME[format] };
}

export const localProvider: Provider = {
  spec: {
    id: "local",
    label: "Local (offline)",
    needsPublicUrl: false,
    needsApiKey: false,
    acceptsHeic: false,
    downscaleInputs: false,
    operations: [
      {
        id: "passthrough",
        label: { ru: "Без изменений", en: "Passthrough" },
        hint: {
          ru: "Возвращает фото как есть — проверка связи с будкой.",
          en: "Returns the photo unchanged.",
        },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings: schema(),
      },
      {
        id: "greyscale",
        label: { ru: "Чёрно-белое", en: "Greyscale" },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings: schema(),
      },
      {
        id: "brighten",
        label: { ru: "Осветлить", en: "Brighten" },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings: schema({
          brightness: Type.Number({
            minimum: 0.1,
            maximum: 3,
            default: 1.25,
            title: "Brightness multiplier",
          }),
        }),
      },
      {
        id: "resize",
        label: { ru: "Уменьшить", en: "Resize" },
        prompt: "none",
        templates: [],
        needsTestPhoto: true,
        settings: schema({
          max_side: Type.Integer({ minimum: 64, maximum: 8192, default: 1024, title: "Longest side, px" }),
        }),
      },
    ],
  },

  async run(ctx) {
    const wait = Number(ctx.settings.simulate_delay_ms ?? 0);
    if (wait > 0) {
      await sleepOn(ctx.clock, wait, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error("aborted");
    }
    switch (ctx.operation) {
      case "passthrough":
        return ctx.photo;
      case "greyscale":
        return transform(ctx, (img) => img.modulate({ saturation: 0 }));
      case "brighten":
        return transform(ctx, (img) => img.modulate({ brightness: Number(ctx.settings.brightness ?? 1.25) }));
      case "resize": {
        const side = Number(ctx.settings.max_side ?? 1024);
        return transform(ctx, (img) => img.resize(side, side, { fit: "inside", withoutEnlargement: true }));
      }
      default:
        throw new ProviderFailure("invalid_config", `The local provider has no operation "${ctx.operation}"`);
    }
  },
};
