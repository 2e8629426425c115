/**
 * A fake Turbotext (turbotext.ru/api_ai) on a real port. Like the real one it wants form-encoded
 * POSTs with a Bearer key, the method's required fields in range, and it DOWNLOADS the input URLs
 * it is given (failing with `url_error` when they are not reachable images). `do=create_queue`
 * answers a queueid; `do=get_result` answers `{"action":"reconnect"}` as often as scripted, then
 * the result — `uploaded_image` top-level, inside `data`, or as a relative path — or an error.
 */

import { sniffImage } from "../../src/media/images";
import { makePng } from "../helpers/images";
import { FakeServer } from "./fake-server";

export interface TurbotextScript {
  /** `{"action":"reconnect"}` answers before the result (default 1). */
  reconnects?: number;
  /** HTTP statuses answered to create_queue before it succeeds (e.g. [503]). */
  createStatuses?: number[];
  result?: "top_level" | "in_data" | "relative";
  /** `success:false` with this error instead of a result. */
  error?: string;
  /** `success:false` with this error right at create_queue. */
  createError?: string;
  /** Never finish (reconnect forever). */
  never?: boolean;
}

export interface InputSeen {
  field: string;
  url: string;
  status: number;
  width?: number;
  height?: number;
}

export interface TurbotextCallSeen {
  method: string;
  do: string;
  fields: Record<string, string>;
  auth: string | null;
  inputs: InputSeen[];
  answer: Record<string, unknown>;
  status: number;
}

const REQUIRED: Record<string, string[]> = {
  generate_image2image: ["url", "content"],
  mix_images: ["url_image_target", "url"],
  deepfake_photo: ["url", "url_image_target"],
};
/** The image the fake "generates": 36×28. */
export const TURBOTEXT_RESULT = makePng(36, 28);

interface QueuedJob {
  method: string;
  script: TurbotextScript;
  polls: number;
}

export class FakeTurbotext extends FakeServer<TurbotextCallSeen, TurbotextScript> {
  readonly downloads: { path: string; auth: string | null }[] = [];
  readonly validKeys: Set<string>;
  private jobs = new Map<string, QueuedJob>();
  private nextId = 1000;

  constructor(keys: string[]) {
    super();
    this.validKeys = new Set(keys);
  }

  /** The API calls seen (downloads of results are in `downloads`). */
  get calls(): TurbotextCallSeen[] {
    return this.requests;
  }

  /** Scripts the next create_queue calls, one script per job. */
  script(...scripts: TurbotextScript[]): void {
    this.answer(...scripts);
  }

  override reset(): void {
    super.reset();
    this.downloads.length = 0;
  }

  protected override async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (req.method === "GET" && (url.pathname === "/download.php" || url.pathname.startsWith("/image/"))) {
      this.downloads.push({ path: url.pathname + url.search, auth: req.headers.get("authorization") });
      return new Response(TURBOTEXT_RESULT as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "image/png" },
      });
    }
    const m = /^\/api_ai\/([a-z0-9_]+)$/.exec(url.pathname);
    if (req.method !== "POST" || !m || !REQUIRED[m[1]!]) return new Response("Not Found", { status: 404 });
    const method = m[1]!;
    const auth = req.headers.get("authorization");
    const call: TurbotextCallSeen = { method, do: "", fields: {}, auth, inputs: [], answer: {}, status: 200 };
    this.arrived(call);
    const answer = (body: Record<string, unknown>, status = 200) => {
      call.answer = body;
      call.status = status;
      return Response.json(body, { status });
    };

    const key = /^Bearer (.+)$/.exec(auth ?? "")?.[1];
    if (!key || !this.validKeys.has(key)) return answer({ success: false, error: "auth_error" }, 401);
    if (!req.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded")) {
      return answer({ success: false, error: "params_error: expected a form" }, 400);
    }
    const fields = Object.fromEntries(new URLSearchParams(await req.text()));
    call.do = fields.do ?? "";
    call.fields = fields;

    if (fields.do === "get_result") {
      const job = this.jobs.get(fields.queueid ?? "");
      if (!job || job.method !== method) return answer({ success: false, error: "queue_not_found" });
      job.polls++;
      const s = job.script;
      if (s.never || job.polls <= (s.reconnects ?? 1)) return answer({ action: "reconnect" });
      if (s.error) return answer({ success: false, error: s.error });
      const file = `${this.url}/download.php?f=${method}_${fields.queueid}.png`;
      const data: Record<string, unknown> = { image: [`image/${method}_${fields.queueid}_0.png`], width: 36 };
      const limits = { foto_limit: 99, text_limit: 0 };
      if (s.result === "relative") return answer({ success: true, error: "", data, limits });
      if (s.result === "in_data") {
        return answer({ success: true, error: "", data: { ...data, uploaded_image: file }, limits });
      }
      return answer({ success: true, error: "", data, uploaded_image: file, limits });
    }
    if (fields.do !== "create_queue") return answer({ success: false, error: "params_error: do" });

    const script = this.peekAnswer() ?? {};
    const transient = script.createStatuses?.shift();
    if (transient) return answer({ success: false, error: "server busy" }, transient);
    this.nextAnswer();
    for (const f of REQUIRED[method]!) {
      if (!fields[f]) return answer({ success: false, error: `params_error: ${f} is required` });
    }
    if (method === "generate_image2image") {
      const strength = Number(fields.strength ?? 40);
      const scale = Number(fields.scale ?? 7.5);
      if (!Number.isInteger(strength) || strength < 0 || strength > 80 || !(scale >= 0.1 && scale <= 20)) {
        return answer({ success: false, error: "params_error: strength/scale" });
      }
    }
    if (method === "deepfake_photo" && fields.face_restore && !/^(True|False)$/.test(fields.face_restore)) {
      return answer({ success: false, error: "params_error: face_restore" });
    }
    // Like the real service, download every input now; an unreachable URL fails the job.
    for (const field of ["url", "url_image_target"]) {
      if (!fields[field]) continue;
      const seen = await fetchInput(field, fields[field]);
      call.inputs.push(seen);
      if (seen.status !== 200 || !seen.width) return answer({ success: false, error: "url_error" });
    }
    if (script.createError) return answer({ success: false, error: script.createError });
    const queueid = ++this.nextId;
    this.jobs.set(String(queueid), { method, script, polls: 0 });
    return answer({ success: true, queueid });
  }
}

async function fetchInput(field: string, url: string): Promise<InputSeen> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok || !sniffImage(bytes)) return { field, url, status: res.status };
    const meta = await new Bun.Image(bytes).metadata();
    return { field, url, status: res.status, width: meta.width, height: meta.height };
  } catch {
    return { field, url, status: 0 };
  }
}
