/** The statistics API (scope `stats:read`): global and per-slot buckets, and the dashboard overview. */
import { Elysia } from "elysia";
import { boxTimeZone } from "../../domain/calendar";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op, withErrors } from "../openapi/docs";
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
        response: withErrors({ 200: GlobalStatsResponse }, { scope: "stats:read", errors: [400] }),
        detail: op({
          tag: "stats",
          summary: "Global statistics: summary and ascending time buckets (≤ 90 days)",
          scope: "stats:read",
        }),
      },
    )
    .get("/api/stats/overview", ({ query }) => overview(services, query, services.clock.now()), {
      scope: "stats:read",
      query: OverviewQuery,
      response: withErrors({ 200: OverviewResponse }, { scope: "stats:read", errors: [400] }),
      detail: op({
        tag: "stats",
        summary: "Dashboard overview: per-slot counts and rates, recent failures, media bytes",
        scope: "stats:read",
      }),
    })
    .get(
      "/api/stats/:slotId",
      ({ params, query }) => slotStats(services, params.slotId, query, services.clock.now(), boxTimeZone()),
      {
        scope: "stats:read",
        query: SlotStatsQuery,
        response: withErrors({ 200: SlotStatsResponse }, { scope: "stats:read", errors: [400, 404] }),
        detail: op({
          tag: "stats",
          summary: "A slot's statistics since its last reset, with time buckets (≤ 31 days)",
          scope: "stats:read",
        }),
      },
    );
