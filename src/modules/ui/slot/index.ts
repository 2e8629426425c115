/**
 * The slot page and its htmx actions, one small plugin per card: the page itself, the
 * configuration form, presets, the test run and templates. Each file holds its routes and view
 * model; its template is the file of the same name in templates/pages/slot/ (the presets card's is
 * templates/presets.tsx, shared; booth.tsx there holds the booth cards and the prompt preview).
 */
import { Elysia } from "elysia";
import type { Services } from "../../../services";
import { uiSlotFormRoutes } from "./form";
import { uiSlotPageRoutes } from "./page";
import { uiSlotPresetsRoutes } from "./presets";
import { uiSlotTemplatesRoutes } from "./templates";
import { uiSlotTestRoutes } from "./test-run";

export const uiSlotRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot" })
    .use(uiSlotPageRoutes(services))
    .use(uiSlotFormRoutes(services))
    .use(uiSlotPresetsRoutes(services))
    .use(uiSlotTestRoutes(services))
    .use(uiSlotTemplatesRoutes(services));
