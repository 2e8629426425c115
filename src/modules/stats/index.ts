/** The statistics API (scope `stats:read`): global and per-slot buckets, and the dashboard overview. */
import { Elysia } from "elysia";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { boxTimeZone } from "./arithmetic";
import {
  GlobalStatsQuery,
  GlobalStatsResponse,
  OverviewQuery,
  OverviewResponse,
  SlotStatsQuery,
  SlotStatsResponse,
} from "./model";
import { globalStats, overview, slotStats } from "./service";

export const statsModule = (services: Services) =>
  new Elysia({ name: "stats" })
    .use(authPlugin(services))
    .get(
      "/api/stats/global",
      ({ query }) => globalStats(services, query, services.clock.now(), boxTimeZone()),
      {
        scope: "stats:read",
        query: GlobalStatsQuery,
        response: { 200: GlobalStatsResponse },
        detail: op({
          tag: "stats",
          summary: "Global statistics: summary and ascending time buckets (≤ 90 days)",
          scope: "stats:read",
          errors: [400],
        }),
      },
    )
    .get("/api/stats/overview", ({ query }) => overview(services, query, services.clock.now()), {
      scope: "stats:read",
      query: OverviewQuery,
      response: { 200: OverviewResponse },
      detail: op({
        tag: "stats",
        summary: "Dashboard overview: per-slot counts and rates, recent failures, media bytes",
        scope: "stats:read",
        errors: [400],
      }),
    })
    .get(
      "/api/stats/:slotId",
      ({ params, query }) => slotStats(services, params.slotId, query, services.clock.now(), boxTimeZone()),
      {
        scope: "stats:read",
        query: SlotStatsQuery,
        response: { 200: SlotStatsResponse },
        detail: op({
          tag: "stats",
          summary: "A slot's statistics since its last reset, with time buckets (≤ 31 days)",
          scope: "stats:read",
          errors: [400, 404],
        }),
      },
    );
