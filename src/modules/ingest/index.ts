/** POST /ingest/{slot_id} (and the /api/ingest alias): the booth's endpoint. */
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { clientAddress } from "../../lib/client";
import type { Services } from "../../services";
import { multipart, op } from "../openapi/docs";
import { answerBooth } from "./accept";

export const ingestModule = (services: Services) => {
  const handler = ({ request, params, server }: HandlerArgs) =>
    answerBooth(services, params.slotId, request, {
      ip: clientAddress(server, request),
      hold: (seconds) => server?.timeout(request, seconds),
    });
  return new Elysia({ name: "ingest" })
    .post("/ingest/:slotId", handler, {
      parse: "none",
      detail: ingestDoc("The booth's upload (DSLR Remote Pro)"),
    })
    .post("/api/ingest/:slotId", handler, {
      parse: "none",
      detail: ingestDoc("Alias of POST /ingest/{slot_id} for booths set up for the earlier build"),
    });
};

function ingestDoc(summary: string) {
  return op({
    tag: "ingest",
    summary,
    description:
      "Holds the request until the processed image is ready or T_sync_response passes. The image goes in " +
      "`fileToUpload` (alias `file`, else the first file part), the password in `password` (or `?password=`); " +
      "every other text field is kept as the job's client metadata. Answers 200 with the image bytes " +
      "(X-Job-Id, Content-Disposition) or the error envelope.",
    body: {
      contentType: "multipart/form-data",
      schema: multipart(
        "fileToUpload",
        {
          password: Type.String(),
          hash: Type.String({ description: "Advisory; recorded, never required to match" }),
          time: Type.String(),
          user_id: Type.String(),
        },
        "JPEG, PNG, WebP or HEIC (decided by magic bytes)",
      ),
    },
    parameters: [
      { name: "slotId", in: "path", required: true, schema: { type: "string", example: "slot-001" } },
    ],
    ok: { description: "The processed image", contentType: "image/*" },
    errors: [400, 401, 404, 413, 415, 422, 429, 500, 502, 503, 504, 507],
  });
}

interface HandlerArgs {
  request: Request;
  params: { slotId: string };
  server: import("elysia/universal").Server | null;
}
