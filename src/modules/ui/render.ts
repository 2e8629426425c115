/** Turns rendered JSX into an HTML response with the status and headers a page needs. */

export const HTML = "text/html; charset=utf-8";

export interface RenderInit {
  status?: number;
  headers?: Record<string, string>;
}

export async function render(body: JSX.Element, init: RenderInit = {}): Promise<Response> {
  let html = await body;
  if (html.trimStart().startsWith("<html")) html = `<!doctype html>${html}`;
  return new Response(html, {
    status: init.status ?? 200,
    headers: {
      "Content-Type": HTML,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "same-origin",
      "X-Frame-Options": "DENY",
      ...init.headers,
    },
  });
}

/** True when htmx sent the request (it then swaps a fragment instead of loading a page). */
export function isHtmx(request: Request): boolean {
  return request.headers.get("hx-request") === "true";
}
