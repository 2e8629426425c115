/**
 * GET /api/blocks (settings:read) and DELETE /api/blocks/{scope}/{key} (settings:write): the
 * addresses throttled for wrong passwords, and lifting one at once.
 */
import { Elysia, t } from "elysia";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { blockJson, liftBlock, listBlocks } from "./service";

const BlockList = t.Object({
  data: t.Array(
    t.Object({
      scope: t.Union([t.Literal("ingest"), t.Literal("login")]),
      key: t.String({ description: "ingest: the booth's address; login: user|address" }),
      failures: t.Integer({ description: "wrong passwords counted since the block's window began" }),
      until: t.String({ format: "date-time" }),
    }),
  ),
});

export const blocksModule = (services: Services) =>
  new Elysia({ name: "blocks" })
    .use(authPlugin(services))
    .get(
      "/api/blocks",
      async () => ({ data: (await listBlocks(services, services.clock.now())).map(blockJson) }),
      {
        scope: "settings:read",
        detail: op({
          tag: "settings",
          summary: "Addresses blocked for wrong passwords (booth ingest and admin login)",
          description:
            "A booth address is blocked after 10 wrong ingest passwords in 10 minutes; while blocked it " +
            "may still have one attempt verified every 30 s, and a right password lifts the block at once. " +
            "A login (user|address) is blocked after 5 failures in 15 minutes, until the window ends.",
          scope: "settings:read",
          ok: { schema: BlockList },
        }),
      },
    )
    .delete(
      "/api/blocks/:scope/:key",
      async ({ params, admin, set }) => {
        await liftBlock(services, params.scope, params.key, admin.username);
        set.status = 204;
        return null;
      },
      {
        scope: "settings:write",
        params: t.Object({
          scope: t.String({ description: "ingest or login" }),
          key: t.String({ description: "the block's key (URL-encoded: login keys hold a `|`)" }),
        }),
        detail: op({
          tag: "settings",
          summary: "Lift a block at once (audited)",
          scope: "settings:write",
          ok: { status: 204, description: "lifted" },
          errors: [404],
        }),
      },
    );
