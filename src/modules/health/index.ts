/** GET /healthz (the process is alive) and GET /readyz (it can take a booth upload now). */
import { Elysia } from "elysia";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import { op } from "../openapi/docs";
import { readiness } from "./service";

export const healthModule = (services: Services) =>
  new Elysia({ name: "health" })
    .get(
      "/healthz",
      ({ set }) => {
        set.headers["cache-control"] = "no-store";
        return { status: "ok" };
      },
      { detail: op({ tag: "operations", summary: "Liveness: the process answers" }) },
    )
    .get(
      "/readyz",
      async () => {
        const result = await readiness({
          store: services.store,
          media: services.media,
          draining: services.draining,
        });
        if (result.ready) {
          return Response.json(
            { status: "ready", checks: result.checks },
            { headers: { "Cache-Control": "no-store" } },
          );
        }
        const failing = Object.entries(result.checks)
          .filter(([, c]) => !c.ok)
          .map(([name]) => name);
        throw new AppError(
          "not_ready",
          `Not ready: ${failing.join(", ")}`,
          { failing, checks: result.checks },
          { "Retry-After": "5" },
        );
      },
      {
        detail: op({
          tag: "operations",
          summary: "Readiness: database reachable, media writable, disk not full, not shutting down",
          errors: [503],
        }),
      },
    );
