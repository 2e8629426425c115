/**
 * Composes the HTTP app from feature modules, behind the one error handler (app-errors.tsx): the
 * JSON envelope for the API, an HTML page for the web UI, a correlation id for anything unexpected.
 */
import { Elysia } from "elysia";
import type { View } from "../templates/view";
import { handleError } from "./app-errors";
import { authModule } from "./modules/auth/index";
import { blocksModule } from "./modules/blocks/index";
import { exportModule } from "./modules/export/index";
import { frontDoor } from "./modules/front-door/index";
import { healthModule } from "./modules/health/index";
import { ingestModule } from "./modules/ingest/index";
import { jobsModule } from "./modules/jobs/index";
import { metricsModule } from "./modules/metrics/index";
import { openapiModule } from "./modules/openapi/index";
import { presetsModule } from "./modules/presets/index";
import { providersModule } from "./modules/providers/index";
import { publicModule } from "./modules/public/index";
import { settingsModule } from "./modules/settings/index";
import { slotsModule } from "./modules/slots/index";
import { statsModule } from "./modules/stats/index";
import { uiModule } from "./modules/ui/index";
import type { Services } from "./services";

export function createApp(services: Services) {
  return new Elysia()
    .onError({ as: "global" }, (ctx) =>
      handleError(services.log, { ...ctx, view: (ctx as { view?: View }).view }),
    )
    .use(frontDoor(services))
    .use(openapiModule())
    .use(healthModule(services))
    .use(authModule(services))
    .use(providersModule(services))
    .use(presetsModule(services))
    .use(ingestModule(services))
    .use(publicModule(services))
    .use(slotsModule(services))
    .use(exportModule(services))
    .use(jobsModule(services))
    .use(settingsModule(services))
    .use(blocksModule(services))
    .use(statsModule(services))
    .use(metricsModule(services))
    .use(uiModule(services));
}
