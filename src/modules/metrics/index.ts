/**
 * GET /metrics: Prometheus text format, unauthenticated like any scrape target on the studio LAN
 * (it carries counts and ids, never secrets or images). If the database cannot be read, the
 * gauges keep their last values and the scrape still answers, so counters are never lost.
 */
import { Elysia } from "elysia";
import type { Services } from "../../services";
import { op } from "../openapi/docs";
import { gaugeSnapshot } from "./service";

export const metricsModule = (services: Services) =>
  new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () => {
      try {
        services.metrics.setGauges(await gaugeSnapshot(services));
      } catch (err) {
        services.log.warn("metrics.gauges_failed", { error: err });
      }
      return new Response(await services.metrics.render(), {
        headers: { "Content-Type": services.metrics.contentType, "Cache-Control": "no-store" },
      });
    },
    {
      detail: op({
        tag: "operations",
        summary: "Prometheus metrics (text exposition format)",
        ok: { description: "Metrics", contentType: "text/plain" },
      }),
    },
  );
