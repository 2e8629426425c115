/** GET /healthz (the process is alive) and GET /readyz (it can take a booth upload now). */
import { Elysia } from "elysia";
import { envelope } from "../../lib/errors";
import type { Runtime } from "../../runtime";
import { readiness } from "./service";

export const healthModule = (rt: Runtime) =>
  new Elysia({ name: "health" })
    .get("/healthz", ({ set }) => {
      set.headers["cache-control"] = "no-store";
      return { status: "ok" };
    })
    .get("/readyz", async () => {
      const result = await readiness({ sql: rt.sql, media: rt.media, draining: rt.draining });
      if (result.ready) {
        return Response.json(
          { status: "ready", checks: result.checks },
          { headers: { "Cache-Control": "no-store" } },
        );
      }
      const failing = Object.entries(result.checks)
        .filter(([, c]) => !c.ok)
        .map(([name]) => name);
      return Response.json(
        envelope("not_ready", `Not ready: ${failing.join(", ")}`, { failing, checks: result.checks }),
        { status: 503, headers: { "Cache-Control": "no-store", "Retry-After": "5" } },
      );
    });
