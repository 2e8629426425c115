/** Response shapes of the presets API, for the document (TypeBox; the TS types are `typeof X.static`). */
import { Type } from "@sinclair/typebox";

const SlotChoice = Type.Object(
  {
    provider: Type.String(),
    operation: Type.String(),
    settings: Type.Record(Type.String(), Type.Unknown(), {
      description: "Provider settings as PUT /api/slots/{id} takes them (with the prompt)",
    }),
  },
  { additionalProperties: false },
);

/** One preset: a curated one (shipped, read-only) or one an operator saved. */
export const Preset = Type.Object(
  {
    id: Type.String({ description: "A curated preset's name-like id, or a saved one's uuid" }),
    kind: Type.Union([Type.Literal("curated"), Type.Literal("custom")]),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    sample_url: Type.Union([Type.String(), Type.Null()], { description: "A curated preset's SVG sample" }),
    providers: Type.Array(Type.String()),
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    variants: Type.Array(SlotChoice, { description: "The first is the preset's default" }),
  },
  { additionalProperties: false, title: "Preset" },
);

export const PresetList = Type.Object({ data: Type.Array(Preset) }, { additionalProperties: false });
