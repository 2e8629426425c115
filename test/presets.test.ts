/**
 * Style presets: the curated set (at least 12, prompts in Russian and English that every
 * provider/operation accepts, written as what to show rather than what to avoid, SVG samples drawn
 * here), one-click apply on the slot page that stays editable, and operators' own presets saved
 * in PostgreSQL with an audit trail.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CURATED_PRESETS } from "../src/presets/catalogue";
import { sampleSvg } from "../src/presets/sample";
import { api, login } from "./helpers/admin";
import { ADMIN_PASSWORDS, startTestApp, type TestApp } from "./helpers/app";
import { checkedApi } from "./helpers/openapi";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(() => app.stop());

describe("the curated set", () => {
  test("at least 12 presets, named and described in both languages, with unique ids", () => {
    expect(CURATED_PRESETS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(CURATED_PRESETS.map((p) => p.id)).size).toBe(CURATED_PRESETS.length);
    for (const p of CURATED_PRESETS) {
      for (const lang of ["ru", "en"] as const) {
        expect(p.name[lang].length).toBeGreaterThan(2);
        expect(p.description[lang].length).toBeGreaterThan(5);
        expect(p.prompt[lang].length).toBeGreaterThan(40);
      }
      expect(/[а-яё]/i.test(p.prompt.ru)).toBe(true);
      expect(/[а-яё]/i.test(p.prompt.en)).toBe(false);
    }
  });

  test("every variant's settings are valid for its provider and operation, in both languages", () => {
    for (const p of CURATED_PRESETS) {
      for (const v of p.variants) {
        const op = app.runtime.providers.operation(v.provider, v.operation);
        expect(`${p.id}: ${v.provider}/${v.operation} ${!!op}`).toBe(
          `${p.id}: ${v.provider}/${v.operation} true`,
        );
        for (const lang of ["ru", "en"] as const) {
          const settings: Record<string, unknown> = { ...v.settings };
          if (op!.prompt !== "none") settings.prompt = (v.prompt ?? p.prompt)[lang];
          const checked = app.runtime.providers.validate(v.provider, v.operation, settings);
          expect(checked.ok ? "ok" : JSON.stringify(checked.errors)).toBe("ok");
        }
      }
    }
  });

  test("prompts describe what to show, not what to avoid (ecosystem.md's lesson)", () => {
    const negativeEn = /\b(no|not|don't|do not|never|without|avoid|remove)\b/i;
    const negativeRu = /(^|[\s,.;:—-])(не|нет|без|никаких|избегай|убери)(?=[\s,.;:])/i;
    for (const p of CURATED_PRESETS) {
      const prompts = [p.prompt, ...p.variants.flatMap((v) => (v.prompt ? [v.prompt] : []))];
      for (const pr of prompts) {
        expect(`${p.id}: ${negativeEn.test(pr.en) ? pr.en : "ok"}`).toBe(`${p.id}: ok`);
        expect(`${p.id}: ${negativeRu.test(pr.ru) ? pr.ru : "ok"}`).toBe(`${p.id}: ok`);
      }
    }
  });

  test("samples are SVG drawn here: no scripts, no external references, distinct per preset", async () => {
    const seen = new Set<string>();
    for (const p of CURATED_PRESETS) {
      const svg = sampleSvg(p.id, p.art);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).not.toMatch(/<script|on[a-z]+=|href=|url\((?!#)/i);
      seen.add(svg);
    }
    expect(seen.size).toBe(CURATED_PRESETS.length);
    const res = await fetch(`${app.url}/presets/watercolor/sample.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("image/svg+xml");
    expect(await res.text()).toBe(
      sampleSvg("watercolor", CURATED_PRESETS.find((p) => p.id === "watercolor")!.art),
    );
    expect((await fetch(`${app.url}/presets/nope/sample.svg`)).status).toBe(404);
  });
});

describe("the API", () => {
  test("list, save (validated, audited), delete (audited); curated ones cannot be deleted", async () => {
    const serg = checkedApi(app, api(app, await login(app, "serg")));
    const list = (await (await serg("GET", "/api/presets?lang=en")).json()) as {
      data: { id: string; kind: string; variants: { provider: string; settings: { prompt?: string } }[] }[];
    };
    const curated = list.data.filter((p) => p.kind === "curated");
    expect(curated.length).toBeGreaterThanOrEqual(12);
    expect(curated.find((p) => p.id === "watercolor")!.variants[0]!.settings.prompt).toContain("watercolour");

    const bad = await serg("POST", "/api/presets", {
      json: { name: "Broken", provider: "gemini", operation: "image_edit", settings: { prompt: "" } },
    });
    expect(bad.status).toBe(422);

    const res = await serg("POST", "/api/presets", {
      json: {
        name: "  Wedding   gold ",
        provider: "gemini",
        operation: "image_edit",
        settings: { prompt: "Golden wedding portrait", aspect_ratio: "3:4" },
      },
    });
    expect(res.status).toBe(201);
    const saved = (await res.json()) as {
      id: string;
      name: string;
      variants: { settings: Record<string, unknown> }[];
    };
    expect(saved.name).toBe("Wedding gold");
    expect(saved.variants[0]!.settings).toMatchObject({
      prompt: "Golden wedding portrait",
      aspect_ratio: "3:4",
      model: "gemini-2.5-flash-image",
    });

    expect((await serg("DELETE", "/api/presets/watercolor")).status).toBe(409);
    expect((await serg("DELETE", `/api/presets/${saved.id}`)).status).toBe(204);
    expect((await serg("DELETE", `/api/presets/${saved.id}`)).status).toBe(404);
    const audit = await app.sql<{ action: string; actor: string }[]>`
      select action, actor from audit_log where action like 'preset.%' order by id`;
    expect([...audit]).toEqual([
      { action: "preset.created", actor: "serg" },
      { action: "preset.deleted", actor: "serg" },
    ]);
  });
});

describe("the slot page", () => {
  let cookie: string;
  beforeAll(async () => {
    const res = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg, next: "/" }),
      redirect: "manual",
    });
    cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  });
  const htmx = { "hx-request": "true" };
  const get = (path: string) => fetch(`${app.url}${path}`, { headers: { cookie, ...htmx } });
  const post = (path: string, form: Record<string, string>) =>
    fetch(`${app.url}${path}`, {
      method: "POST",
      headers: { cookie, origin: app.url, ...htmx, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
  const slotForm = (provider: string, operation: string, extra: Record<string, string> = {}) => ({
    name: "Booth 1",
    enabled: "true",
    provider,
    operation,
    output_format: "jpeg",
    size_limit_mb: "15",
    version: "1",
    ...extra,
  });

  test("the page shows the presets with their samples and one-click apply buttons", async () => {
    const html = await (await fetch(`${app.url}/slots/slot-001?lang=ru`, { headers: { cookie } })).text();
    expect(html).toContain('id="presets-card"');
    expect(html).toContain('src="/presets/watercolor/sample.svg"');
    expect(html).toContain("Акварель");
    expect((html.match(/data-preset="/g) ?? []).length).toBeGreaterThanOrEqual(12);
  });

  test("one click fills the form; the slot keeps its provider when the preset has a variant for it", async () => {
    const q = new URLSearchParams({
      ...slotForm("gemini", "image_edit", { "s.aspect_ratio": "3:4" }),
      preset: "watercolor",
    });
    let html = await (await get(`/slots/slot-001/form?${q}&lang=en`)).text();
    expect(html).toContain("Repaint the photo as a watercolour portrait");
    expect(html).toContain('<option value="gemini" selected');
    // Settings the preset does not set are kept (same provider and operation).
    expect(html).toMatch(/<option value="3:4" selected/);
    expect(html).toContain("review and save the slot");

    // A local slot has no watercolour variant: the preset's default provider takes over.
    const local = new URLSearchParams({ ...slotForm("local", "passthrough"), preset: "watercolor" });
    html = await (await get(`/slots/slot-001/form?${local}&lang=ru`)).text();
    expect(html).toContain('<option value="gemini" selected');
    expect(html).toContain("акварельный портрет");

    // The offline preset keeps a local slot local.
    const bw = new URLSearchParams({ ...slotForm("local", "passthrough"), preset: "classic_bw" });
    html = await (await get(`/slots/slot-001/form?${bw}`)).text();
    expect(html).toContain('<option value="local" selected');
    expect(html).toContain('<option value="greyscale" selected');

    // Turbotext gets its compact prompt in the page's language.
    const tt = new URLSearchParams({ ...slotForm("turbotext", "image2image"), preset: "pop_art" });
    html = await (await get(`/slots/slot-001/form?${tt}&lang=ru`)).text();
    expect(html).toContain("поп-арт, шелкография");
    expect(html).toMatch(/name="s.original_language" value="ru"/);
  });

  test("applied, edited, saved: the slot keeps the operator's edits", async () => {
    const res = await post(
      "/slots/slot-002",
      slotForm("gemini", "image_edit", {
        prompt: "Repaint the photo as a watercolour portrait, with a sunflower field behind.",
      }),
    );
    expect(res.status).toBe(200);
    const [row] = await app.sql<{ provider: string; settings: { prompt: string } }[]>`
      select provider, settings from slot where id = 'slot-002'`;
    expect(row!.provider).toBe("gemini");
    expect(row!.settings.prompt).toContain("sunflower field");
  });

  test("operators save the form as their own preset and apply it later", async () => {
    let res = await post("/slots/slot-003/presets", {
      ...slotForm("local", "brighten", { "s.brightness": "1.6" }),
      preset_name: "",
    });
    expect(res.status).toBe(422);
    res = await post("/slots/slot-003/presets", {
      ...slotForm("local", "brighten", { "s.brightness": "1.6" }),
      preset_name: "Bright party",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Bright party");
    const [row] = await app.sql<
      {
        id: string;
        provider: string;
        operation: string;
        settings: Record<string, unknown>;
        created_by: string;
      }[]
    >`
      select id, provider, operation, settings, created_by from slot_preset where name = 'Bright party'`;
    expect(row).toMatchObject({ provider: "local", operation: "brighten", created_by: "serg" });
    expect(row!.settings.brightness).toBe(1.6);

    const q = new URLSearchParams({ ...slotForm("gemini", "image_edit"), preset: row!.id });
    const form = await (await get(`/slots/slot-004/form?${q}`)).text();
    expect(form).toContain('<option value="brighten" selected');
    expect(form).toMatch(/name="s.brightness" value="1.6"/);

    const del = await post(`/slots/slot-003/presets/${row!.id}/delete`, {});
    expect(del.status).toBe(200);
    expect(await del.text()).not.toContain("Bright party");
  });
});
