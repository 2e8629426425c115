/** The provider declarations and slot-settings validation (pure: no database, no network). */
import { describe, expect, test } from "bun:test";
import type { TObject } from "@sinclair/typebox";
import { loadConfig } from "../src/config";
import { defaultProviders, ProviderRegistry } from "../src/providers/catalogue";
import { sanitize } from "../src/providers/common";
import { readGeminiResponse, supportsImageSize } from "../src/providers/gemini";

const registry = new ProviderRegistry(defaultProviders(loadConfig({})));

describe("declarations", () => {
  test("the four providers and their operations", () => {
    const ops = Object.fromEntries(
      registry.list().map((p) => [p.spec.id, p.spec.operations.map((o) => o.id)]),
    );
    expect(ops).toEqual({
      gemini: ["image_edit", "style_transfer", "identity_transfer"],
      turbotext: ["image2image", "style_transfer", "identity_transfer"],
      openai: ["image_edit", "style_transfer", "identity_transfer"],
      local: ["passthrough", "greyscale", "brighten", "resize"],
    });
    expect(registry.get("turbotext")!.spec.needsPublicUrl).toBe(true);
    expect(registry.get("gemini")!.spec.needsPublicUrl).toBe(false);
  });

  test("every schema is closed, declares its prompt consistently, and downscaling ones have max_input_side", () => {
    for (const p of registry.list()) {
      for (const op of p.spec.operations) {
        const schema = op.settings as TObject;
        const where = `${p.spec.id}/${op.id}`;
        expect([where, schema.additionalProperties]).toEqual([where, false]);
        const required = (schema.required ?? []) as string[];
        if (op.prompt === "required") expect([where, required.includes("prompt")]).toEqual([where, true]);
        if (op.prompt !== "required") expect([where, required.includes("prompt")]).toEqual([where, false]);
        if (p.spec.downscaleInputs) {
          expect([where, schema.properties.max_input_side]).toMatchObject([
            where,
            { minimum: 256, maximum: 4096, default: 2048 },
          ]);
        }
        for (const t of op.templates) expect(typeof t.required).toBe("boolean");
        expect(op.needsTestPhoto).toBe(true);
      }
    }
  });

  test("template roles per operation", () => {
    const roles = (p: string, o: string) =>
      registry.operation(p, o)!.templates.map((t) => `${t.role}${t.required ? "" : "?"}`);
    expect(roles("gemini", "image_edit")).toEqual([]);
    expect(roles("gemini", "style_transfer")).toEqual(["style"]);
    expect(roles("gemini", "identity_transfer")).toEqual(["face"]);
    expect(roles("turbotext", "style_transfer")).toEqual(["style"]);
    expect(roles("turbotext", "identity_transfer")).toEqual(["face"]);
    expect(roles("openai", "image_edit")).toEqual(["reference?"]);
  });
});

describe("validation", () => {
  test("defaults are applied", () => {
    const g = registry.validate("gemini", "image_edit", { prompt: "x" });
    expect(g).toEqual({
      ok: true,
      settings: { prompt: "x", model: "gemini-2.5-flash-image", max_input_side: 2048 },
    });
    const t = registry.validate("turbotext", "image2image", { prompt: "x" });
    expect(t.ok && t.settings).toMatchObject({ strength: 40, scale: 7.5, original_language: "ru" });
    const o = registry.validate("openai", "image_edit", { prompt: "x" });
    expect(o.ok && o.settings).toMatchObject({ model: "gpt-image-1.5", size: "auto", output_format: "png" });
    const d = registry.validate("turbotext", "identity_transfer", {});
    expect(d.ok && d.settings).toMatchObject({ face_restore: true });
  });

  test("per-field errors", () => {
    const fields = (p: string, o: string, s: unknown) => {
      const r = registry.validate(p, o, s);
      return r.ok ? [] : r.errors.map((e) => e.field).sort();
    };
    expect(fields("gemini", "image_edit", {})).toEqual(["settings.prompt"]);
    expect(fields("gemini", "image_edit", { prompt: "  " })).toEqual(["settings.prompt"]);
    expect(
      fields("gemini", "style_transfer", {
        prompt: "x",
        image_size: "8K",
        aspect_ratio: "7:3",
        max_input_side: 100,
        model: "../etc",
        temperature: 1,
      }),
    ).toEqual([
      "settings.aspect_ratio",
      "settings.image_size",
      "settings.max_input_side",
      "settings.model",
      "settings.temperature",
    ]);
    expect(fields("turbotext", "image2image", { prompt: "x", strength: 81, scale: 0, seed: 0 })).toEqual([
      "settings.scale",
      "settings.seed",
      "settings.strength",
    ]);
    expect(fields("turbotext", "identity_transfer", { prompt: "faces" })).toEqual(["settings.prompt"]);
    expect(fields("openai", "image_edit", { prompt: "x", size: "512x512", max_input_side: 5000 })).toEqual([
      "settings.max_input_side",
      "settings.size",
    ]);
    expect(fields("gemini", "greyscale", {})).toEqual(["operation"]);
  });

  test("imageSize is for Gemini 3 Pro models only", () => {
    expect(supportsImageSize("gemini-3-pro-image-preview")).toBe(true);
    expect(supportsImageSize("gemini-3.1-pro-image")).toBe(true);
    expect(supportsImageSize("gemini-2.5-flash-image")).toBe(false);
    expect(supportsImageSize("gemini-3.1-flash-image")).toBe(false);
  });
});

describe("helpers", () => {
  test("reading a Gemini response: first non-thought image wins; reasons explain the rest", () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]).toString("base64");
    const jpg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]).toString("base64");
    const verdict = readGeminiResponse({
      candidates: [
        {
          content: {
            parts: [{ text: "hi" }, { thought: true, inlineData: { mimeType: "image/png", data: png } }],
          },
        },
        { content: { parts: [{ inlineData: { mimeType: "image/jpeg", data: jpg } }] } },
      ],
    } as never);
    expect(verdict.kind === "image" && verdict.image.format).toBe("jpeg");
    expect(readGeminiResponse({ candidates: [{ finishReason: "NO_IMAGE" }] } as never).kind).toBe("no_image");
    expect(readGeminiResponse({ candidates: [] } as never)).toEqual({
      kind: "empty",
      reason: "no candidates",
      message: "",
    });
    expect(readGeminiResponse({ candidates: [{ finishReason: "STOP" }] } as never).kind).toBe("empty");
  });

  test("sanitize removes keys, bearer tokens and key= parameters", () => {
    const out = sanitize(
      "bad key AIzaSyA1234567890abcdefgh and sk-proj-abc***wxyz, Bearer abc.def, url?key=secret1 and my-own-key",
      ["my-own-key"],
    );
    expect(out).not.toMatch(/AIza|sk-proj|abc\.def|secret1|my-own-key/);
  });
});
