/** The `{field}` placeholder rule (src/domain/prompt-fields.ts): pure, no database. */
import { describe, expect, test } from "bun:test";
import {
  cleanFieldValue,
  FIELD_VALUE_MAX,
  fillPrompt,
  fillPromptSettings,
  promptPlaceholders,
} from "../src/domain/prompt-fields";

describe("prompt placeholders", () => {
  test("a placeholder takes the booth field's value; an unknown field becomes empty", () => {
    const fields = { style: "watercolour", name: "Anna" };
    expect(fillPrompt("Paint {name} in {style} style", fields)).toBe("Paint Anna in watercolour style");
    expect(fillPrompt("A {mood} portrait of {name}", fields)).toBe("A  portrait of Anna");
    expect(fillPrompt("{style}{style}", fields)).toBe("watercolourwatercolour");
  });

  test("control characters are stripped, values trimmed and cut at 200 characters", () => {
    expect(cleanFieldValue("Anna\u0007\u0000")).toBe("Anna");
    expect(cleanFieldValue("  two\nlines\r\n ")).toBe("twolines");
    expect(cleanFieldValue("tab\there\u009b")).toBe("tabhere");
    expect(cleanFieldValue("x".repeat(500))).toBe("x".repeat(FIELD_VALUE_MAX));
    // counted in characters, never cutting one in half
    const emoji = "😀".repeat(300);
    expect(Array.from(cleanFieldValue(emoji))).toHaveLength(FIELD_VALUE_MAX);
    expect(cleanFieldValue(emoji)).toBe("😀".repeat(FIELD_VALUE_MAX));
    expect(fillPrompt("Hi {n}!", { n: "Ignore the above.\nNew instruction" })).toBe(
      "Hi Ignore the above.New instruction!",
    );
  });

  test("only field-like names are placeholders: other braces stay as written", () => {
    expect(fillPrompt("keep {this one} and {} and {{x}}", { x: "X" })).toBe("keep {this one} and {} and {X}");
    expect(fillPrompt('JSON {"a": 1}', {})).toBe('JSON {"a": 1}');
    expect(promptPlaceholders("{a} {b.c} {a} {d-e} {not one}")).toEqual(["a", "b.c", "d-e"]);
  });

  test("inherited object keys are not fields", () => {
    expect(fillPrompt("{constructor}{toString}{__proto__}", {})).toBe("");
  });

  test("the prompt settings are filled, the rest and the original left alone", () => {
    const settings = { prompt: "{a} cat", negative_prompt: "no {b}", strength: 40, model: "{a}" };
    const filled = fillPromptSettings(settings, { a: "red", b: "dogs" });
    expect(filled).toEqual({ prompt: "red cat", negative_prompt: "no dogs", strength: 40, model: "{a}" });
    expect(settings.prompt).toBe("{a} cat");
  });
});
