/**
 * Finds English words in a page rendered in Russian: every visible text node and every
 * human-facing attribute (title, aria-label, placeholder, alt), minus what is not prose — code,
 * ids and URLs, values the operator typed, and quotes marked `translate="no"` (a provider's own
 * words). Product names and file formats that read the same in Russian are allowed by name.
 */

/** Words that are names or formats, the same in a Russian sentence. */
const ALLOWED = new Set(
  [
    "PhotoChanger",
    "DSLR",
    "Remote",
    "Pro",
    // DSLR Remote Pro's own menu path, quoted in the booth instructions
    "Postprocess",
    "photos",
    "Web",
    "based",
    "HTTP",
    "POST",
    "URL",
    "API",
    "JPEG",
    "JPG",
    "PNG",
    "WebP",
    "HEIC",
    "QR",
    "CSV",
    "SLA",
    "Gemini",
    "Google",
    "Turbotext",
    "OpenAI",
    "GPT",
    "Image",
    "RU",
    "EN",
    "ID",
    "IP",
    "AI",
    "Windows",
    "Unix",
    "ISO",
    "px",
    "pid",
    "serg",
    "igor",
    "seed",
    "Telegram",
    "UTC",
  ].map((w) => w.toLowerCase()),
);

/** Elements whose content is not prose to translate. */
const SKIP = "script, style, svg, code, textarea, [translate=no], .mono, .slot-id";

export async function visibleTexts(html: string): Promise<string[]> {
  const out: string[] = [];
  let skip = 0;
  let buffer = "";
  const rewriter = new HTMLRewriter()
    .on(SKIP, {
      element(el) {
        try {
          el.onEndTag(() => {
            skip--;
          });
          skip++;
        } catch {
          // a void element (<input class="mono">): it has no content to skip
        }
      },
    })
    .on("*", {
      element(el) {
        if (skip) return;
        for (const name of ["title", "aria-label", "placeholder", "alt"]) {
          const value = el.getAttribute(name);
          if (value) out.push(value);
        }
      },
      text(t) {
        if (!skip) buffer += t.text;
        if (t.lastInTextNode) {
          if (buffer.trim()) out.push(buffer);
          buffer = "";
        }
      },
    });
  await rewriter.transform(new Response(html)).text();
  return out.map(decode);
}

function decode(s: string): string {
  return s
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");
}

/** English words in the texts, each with the text it was found in. */
export function englishWords(texts: string[], allowed: string[] = []): { word: string; in: string }[] {
  const extra = new Set(allowed.map((w) => w.toLowerCase()));
  const found: { word: string; in: string }[] = [];
  for (const text of texts) {
    const prose = text
      .replace(/https?:\/\/\S+/g, " ")
      // identifiers, versions and values: anything with a digit, an underscore or a dot inside
      .replace(/\S*[\d_]\S*/g, " ")
      .replace(/\b[A-Za-z]+\.[A-Za-z.]+\b/g, " ");
    for (const m of prose.matchAll(/[A-Za-z]{2,}/g)) {
      const w = m[0];
      if (ALLOWED.has(w.toLowerCase()) || extra.has(w.toLowerCase())) continue;
      if (/^[IVXLC]+$/.test(w)) continue; // Roman numerals ("XVI века")
      found.push({ word: w, in: text.trim().slice(0, 120) });
    }
  }
  return found;
}
