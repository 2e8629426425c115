/** The hostile cases on the public routes: unknown and malformed result and media ids, traversal. */
import type { Case } from "../helpers/hostile-suite";

export const PUBLIC_CASES: Case[] = [
  {
    name: "a result id that is not a UUID",
    path: "/public/results/not-a-uuid",
    status: 404,
    code: "result_not_found",
  },
  { name: "a result id with NUL", path: "/public/results/%00", status: 404, code: "not_found" },
  {
    name: "an unknown result",
    path: `/public/results/${crypto.randomUUID()}`,
    status: 404,
    code: "result_not_found",
  },
  {
    name: "an unknown thumbnail",
    path: `/public/results/${crypto.randomUUID()}/thumb`,
    status: 404,
    code: "result_not_found",
  },
  { name: "a short media id", path: "/public/media/abc", status: 404, code: "media_not_found" },
  {
    name: "an unknown media id",
    path: `/public/media/${"A".repeat(43)}`,
    status: 404,
    code: "media_not_found",
  },
  { name: "traversal to the master key", path: "/public/media/..%2f..%2fmaster.key", status: 404 },
  { name: "a share page with NUL", path: "/r/%00", status: 404, code: "not_found" },
  {
    name: "the QR of an unknown result",
    path: `/r/${crypto.randomUUID()}/qr.svg`,
    status: 404,
  },
  { name: "a share page of a non-UUID", path: "/r/not-a-uuid", status: 404 },
  { name: "an asset outside the list", path: "/assets/..%2f..%2fsrc%2fconfig.ts", status: 404 },
  { name: "an asset name with NUL", path: "/assets/app.css%00", status: 404, code: "not_found" },
];
