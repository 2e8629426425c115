/**
 * A fake Gemini API for the benchmark: `POST /{v1beta|v1}/models/{model}:generateContent` with the
 * `x-goog-api-key` header and the real JSON body (inline image parts, then the prompt text), answered
 * the way Gemini answers — one candidate whose parts carry the image in `inlineData`. It answers
 * with the photo it was sent (an "edit" of the same size and format, so no conversion is forced on
 * the server) after the latency named in the prompt: `latency=2000` waits 2 s. That way each slot
 * carries its own provider latency and the bench can call the fake directly with the same body.
 */
export interface FakeGeminiStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Decoded bytes of the inline images received, per request (what the server sent the provider). */
  imageBytes: number[];
}

export const FAKE_GEMINI_KEY = "bench-gemini-key";

export function startFakeGemini() {
  const stats: FakeGeminiStats = { requests: 0, inFlight: 0, maxInFlight: 0, imageBytes: [] };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 255,
    maxRequestBodySize: 200 * 1024 * 1024,
    async fetch(req) {
      const m = /^\/v1(beta)?\/models\/([^/:]+):generateContent$/.exec(new URL(req.url).pathname);
      if (req.method !== "POST" || !m) return rpcError(404, "NOT_FOUND", "no such method");
      if (req.headers.get("x-goog-api-key") !== FAKE_GEMINI_KEY) {
        return rpcError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.");
      }
      stats.requests++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        const body = (await req.json()) as {
          contents?: { parts?: { text?: string; inlineData?: { mimeType: string; data: string } }[] }[];
        };
        const parts = body.contents?.[0]?.parts ?? [];
        const image = parts.find((p) => p.inlineData)?.inlineData;
        const prompt = parts.find((p) => typeof p.text === "string")?.text ?? "";
        if (!image) return rpcError(400, "INVALID_ARGUMENT", "no inline image");
        stats.imageBytes.push(Math.floor((image.data.length * 3) / 4));
        const latency = Number(/latency=(\d+)/.exec(prompt)?.[1] ?? 0);
        if (latency > 0) await Bun.sleep(latency);
        return Response.json({
          candidates: [
            {
              content: {
                role: "model",
                parts: [{ inlineData: { mimeType: image.mimeType, data: image.data } }],
              },
              finishReason: "STOP",
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 1290, totalTokenCount: 1290 },
          modelVersion: "bench-fake",
        });
      } finally {
        stats.inFlight--;
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    stats,
    stop: () => server.stop(true),
  };
}

/** The request a Gemini client sends for an image edit: photo first, prompt last (as the server does). */
export function geminiBody(photo: Uint8Array, prompt: string): string {
  return JSON.stringify({
    contents: [
      {
        role: "user",
        parts: [
          { inlineData: { mimeType: "image/jpeg", data: Buffer.from(photo).toString("base64") } },
          { text: prompt },
        ],
      },
    ],
    generationConfig: { responseModalities: ["IMAGE"] },
  });
}

function rpcError(code: number, status: string, message: string): Response {
  return Response.json({ error: { code, message, status } }, { status: code });
}
