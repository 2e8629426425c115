/** GET /healthz (the process is alive) and GET /readyz (it can take a booth upload now). */
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import { op } from "../openapi/docs";
import { readiness } from "./service";

const Alive = Type.Object({ status: Type.Literal("ok") }, { additionalProperties: false });
const Ready = Type.Object(
  {
    status: Type.Literal("ready"),
    checks: Type.Record(
      Type.String(),
      Type.Object({ ok: Type.Boolean() }, { description: "A check's result and its own details" }),
      { description: "database (latency_ms), media (backend), disk (free_bytes…), accepting" },
    ),
  },
  { additionalProperties: false },
);

export const healthModule = (services: Services) =>
  new Elysia({ name: "health" })
    .get(
      "/healthz",
      ({ set }) => {
        set.headers["cache-control"] = "no-store";
        return { status: "ok" };
      },
      { detail: op({ tag: "operations", summary: "Liveness: the process answers", ok: { schema: Alive } }) },
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
          ok: { schema: Ready },
          errors: [503],
        }),
      },
    );
