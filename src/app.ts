/**
 * Composes the HTTP app from feature modules, behind one error handler that turns an AppError into
 * the JSON envelope and hides the internals of anything unexpected behind a correlation id.
 */
import { randomUUID } from "node:crypto";
import { Elysia } from "elysia";
import { AppError, envelope, errorResponse } from "./lib/errors";
import { authModule } from "./modules/auth/index";
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
import { browserErrorPage } from "./modules/ui/errors";
import { uiModule } from "./modules/ui/index";
import type { Services } from "./services";

export function createApp(rt: Services) {
  return new Elysia()
    .onError({ as: "global" }, async ({ error, code, request }) => {
      // a browser that navigated into an error gets a page, programs the JSON envelope
      const page =
        error instanceof AppError
          ? await browserErrorPage(request, error.status, error.code, error.message)
          : code === "NOT_FOUND"
            ? await browserErrorPage(request, 404, "not_found")
            : null;
      if (page) return page;
      if (error instanceof AppError) return errorResponse(error);
      if (code === "NOT_FOUND") {
        return Response.json(envelope("not_found", "No such endpoint"), {
          status: 404,
          headers: { "Cache-Control": "no-store" },
        });
      }
      if (code === "VALIDATION") {
        const details = validationDetails(error);
        return Response.json(envelope("invalid_request", "The request is not valid", details), {
          status: 400,
          headers: { "Cache-Control": "no-store" },
        });
      }
      if (isUnstorableText(error)) {
        // A NUL or broken UTF-8 that got as far as PostgreSQL: bad input, not a server fault.
        return Response.json(
          envelope("invalid_request", "The request holds characters that cannot be stored (such as NUL)"),
          { status: 400, headers: { "Cache-Control": "no-store" } },
        );
      }
      if (code === "PARSE") {
        return Response.json(envelope("invalid_payload", "The request body could not be parsed"), {
          status: 400,
          headers: { "Cache-Control": "no-store" },
        });
      }
      const correlationId = randomUUID();
      rt.log.error("http.internal_error", {
        correlation_id: correlationId,
        method: request.method,
        path: new URL(request.url).pathname,
        error,
        stack: error instanceof Error ? error.stack?.split("\n").slice(0, 6).join(" | ") : undefined,
      });
      return Response.json(
        envelope("internal_error", "Something went wrong on the server", { correlation_id: correlationId }),
        { status: 500, headers: { "Cache-Control": "no-store" } },
      );
    })
    .use(frontDoor(rt))
    .use(openapiModule())
    .use(healthModule(rt))
    .use(authModule(rt))
    .use(providersModule(rt))
    .use(presetsModule(rt))
    .use(ingestModule(rt))
    .use(publicModule(rt))
    .use(slotsModule(rt))
    .use(jobsModule(rt))
    .use(settingsModule(rt))
    .use(statsModule(rt))
    .use(metricsModule(rt))
    .use(uiModule(rt));
}

export type App = ReturnType<typeof createApp>;

/** PostgreSQL's "untranslatable character" / "invalid byte sequence" (e.g. \u0000 in text or jsonb). */
function isUnstorableText(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | null, i = 0; e && i < 4; i++) {
    if (e.code === "22P05" || e.code === "22021") return true;
    e = e.cause as typeof e;
  }
  return false;
}

function validationDetails(error: unknown): Record<string, unknown> {
  const all = (error as { all?: { path?: string; message?: string }[] }).all;
  if (!Array.isArray(all)) return {};
  return {
    fields: all.map((e) => ({
      field: (e.path ?? "").replace(/^\//, "").replaceAll("/", "."),
      message: e.message,
    })),
  };
}
