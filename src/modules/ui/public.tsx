/** @jsxImportSource @kitajs/html */
/**
 * Public pages: the guest page of a result (/r/{job_id}) with its QR code, and the embedded assets.
 * No session needed; the result's unguessable id is the permission.
 */
import { Elysia } from "elysia";
import { ASSETS } from "../../../templates/assets/index";
import { ShareGone, SharePage } from "../../../templates/pages/share";
import { AppError } from "../../lib/errors";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { findServableResult } from "../public/service";
import { uiContext } from "./context";
import { qrSvg } from "./qr";
import { render } from "./render";

export const uiPublicRoutes = (services: Services) =>
  new Elysia({ name: "ui-public" })
    .use(uiContext(services))
    .get("/assets/:name", ({ params, query }) => {
      const asset = Object.hasOwn(ASSETS, params.name) ? ASSETS[params.name] : undefined;
      if (!asset) throw new AppError("not_found", "No such asset");
      const immutable = query.v === asset.hash;
      return new Response(Bun.file(asset.path), {
        headers: {
          "Content-Type": asset.type,
          "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "public, max-age=300",
          ETag: `"${asset.hash}"`,
          "X-Content-Type-Options": "nosniff",
        },
      });
    })
    .get("/r/:jobId", async ({ params, view }) => {
      try {
        const job = await findServableResult(services, params.jobId);
        return render(<SharePage v={view} jobId={job.id} expiresAt={job.resultExpiresAt} />, {
          headers: { "X-Robots-Tag": "noindex" },
        });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const why = err.code === "result_deleted" ? "deleted" : err.status === 410 ? "expired" : "not_found";
        return render(<ShareGone v={view} why={why} />, { status: err.status });
      }
    })
    .get("/r/:jobId/qr.svg", async ({ params, request }) => {
      // The same 404/410 as the result itself: an expired result's QR is gone too.
      const job = await findServableResult(services, params.jobId);
      const base = await linkBaseFor(services.settings, request);
      return new Response(qrSvg(`${base}/r/${job.id}`), {
        headers: { "Content-Type": "image/svg+xml", "Cache-Control": "private, max-age=300" },
      });
    });
