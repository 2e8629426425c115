/** @jsxImportSource @kitajs/html */
/** `/gallery` (admin), its share links, and the public, rate-limited `/g/{share_id}`. */
import { Elysia } from "elysia";
import {
  GalleryPage,
  type GallerySlot,
  PublicGalleryGone,
  PublicGalleryPage,
  ShareCard,
  type ShareLinkView,
} from "../../../templates/pages/gallery";
import type { View } from "../../../templates/view";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { listSlots } from "../slots/service";
import { uiContext } from "./context";
import { slotResults } from "./data";
import { operationLabel, providerLabel } from "./labels";
import { render } from "./render";
import {
  activeShareLinks,
  createShareLink,
  revokeShareLink,
  SHARE_VIEWS_PER_MINUTE,
  usableShareLink,
  ViewLimiter,
} from "./share-links";

const RESULTS_PER_SLOT = 12;

async function gallerySlots(services: Services, v: View, boothOnly = false): Promise<GallerySlot[]> {
  const slots = await listSlots(services, "");
  return Promise.all(
    slots.map(async (s) => ({
      id: s.id,
      name: s.name,
      enabled: s.enabled,
      provider: providerLabel(services, s.provider, v.lang),
      operation: operationLabel(services, s.provider, s.operation, v.lang),
      results: (await slotResults(services, s.id, "", RESULTS_PER_SLOT, boothOnly)).map((j) => ({
        jobId: j.id,
        slotId: j.slot_id,
        source: j.source,
        finalizedAt: j.finalized_at,
        resultExpiresAt: j.result_expires_at,
      })),
    })),
  );
}

async function shareLinks(services: Services, request: Request): Promise<ShareLinkView[]> {
  const base = await linkBaseFor(services.settings, request);
  return (await activeShareLinks(services)).map((l) => ({
    id: l.id,
    url: `${base}/g/${l.id}`,
    expiresAt: l.expiresAt,
    createdBy: l.createdBy,
  }));
}

export const uiGalleryRoutes = (services: Services) => {
  const limiter = new ViewLimiter(SHARE_VIEWS_PER_MINUTE, () => services.clock.now().getTime());
  return new Elysia({ name: "ui-gallery" })
    .use(uiContext(services))
    .get(
      "/gallery",
      async ({ view, request }) => {
        const [slots, links] = await Promise.all([
          gallerySlots(services, view),
          shareLinks(services, request),
        ]);
        return render(<GalleryPage v={view} slots={slots} links={links} />);
      },
      { page: "slots:read" },
    )
    .post(
      "/gallery/share",
      async ({ body, view, admin, request }) => {
        const minutes = Number((body as Record<string, unknown> | undefined)?.minutes ?? 60);
        await createShareLink(services, admin.username, minutes);
        return render(<ShareCard v={view} links={await shareLinks(services, request)} />);
      },
      { page: "slots:write" },
    )
    .post(
      "/gallery/share/:shareId/revoke",
      async ({ params, view, admin, request }) => {
        await revokeShareLink(services, params.shareId, admin.username);
        return render(
          <ShareCard
            v={view}
            links={await shareLinks(services, request)}
            message={view.t.gallery.shareRevoked}
          />,
        );
      },
      { page: "slots:write" },
    )
    .get("/g/:shareId", async ({ params, view }) => {
      if (!limiter.allow(params.shareId)) {
        return render(<PublicGalleryGone v={view} throttled />, {
          status: 429,
          headers: { "Retry-After": "60" },
        });
      }
      const link = await usableShareLink(services, params.shareId);
      if (!link) return render(<PublicGalleryGone v={view} throttled={false} />, { status: 410 });
      // guests see the booth's photos only: no test shots, no provider, slot id or on/off state
      const slots = await gallerySlots(services, view, true);
      return render(<PublicGalleryPage v={view} slots={slots} expiresAt={link.expiresAt} />, {
        headers: { "X-Robots-Tag": "noindex" },
      });
    });
};
