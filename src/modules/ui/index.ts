/**
 * The web UI (SPEC §7): server-rendered pages with htmx partial updates, calling the same services
 * as the JSON API. Pages need the session cookie (anonymous → /login); /r/{id}, /g/{id} and the
 * embedded assets are public.
 */
import { Elysia } from "elysia";
import type { Services } from "../../services";
import { uiAuthRoutes } from "./auth";
import { uiDashboardRoutes } from "./dashboard";
import { uiGalleryRoutes } from "./gallery";
import { uiJobsRoutes } from "./jobs";
import { uiOpsRoutes } from "./ops";
import { uiPublicRoutes } from "./public";
import { uiSettingsRoutes } from "./settings";
import { uiSlotRoutes } from "./slot/index";
import { uiStatsRoutes } from "./stats";

export const uiModule = (services: Services) =>
  new Elysia({ name: "ui" })
    .use(uiPublicRoutes(services))
    .use(uiAuthRoutes(services))
    .use(uiDashboardRoutes(services))
    .use(uiSlotRoutes(services))
    .use(uiJobsRoutes(services))
    .use(uiGalleryRoutes(services))
    .use(uiSettingsRoutes(services))
    .use(uiStatsRoutes(services))
    .use(uiOpsRoutes(services));
