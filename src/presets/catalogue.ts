/**
 * The curated style presets: booth effects ready to use — a prompt per provider/operation in
 * Russian and English, and a sample picture drawn as SVG (src/presets/sample.ts), never a
 * downloaded image. Operators apply one to a slot with one click, then edit it as they like.
 *
 * The prompts follow the lessons collected in ../shared/reference/ecosystem.md: describe what the
 * picture should be, not what it should not be (naming a thing to avoid tends to summon it), keep
 * the guest recognisable by saying so positively, and keep one clear style per prompt. Turbotext's
 * image2image reads short comma-separated descriptions best, so it gets a compact version.
 */
import type { Text } from "../providers/types";

export interface PresetVariant {
  provider: "gemini" | "openai" | "turbotext" | "local";
  operation: string;
  /** The prompt for this provider/operation; falls back to the preset's prompt. */
  prompt?: Text;
  /** Other settings the variant sets (validated and completed with defaults when applied). */
  settings?: Record<string, unknown>;
}

export interface SampleArt {
  /** Background gradient, top → bottom. */
  sky: [string, string];
  /** The portrait silhouette's colour. */
  figure: string;
  motif:
    | "stars"
    | "brush"
    | "dots"
    | "rays"
    | "grid"
    | "frame"
    | "snow"
    | "pixels"
    | "lines"
    | "halo"
    | "waves"
    | "bokeh";
  accent: string;
}

export interface CuratedPreset {
  id: string;
  name: Text;
  description: Text;
  prompt: Text;
  /** First variant = the preset's default provider; a slot keeps its provider when a variant exists for it. */
  variants: PresetVariant[];
  art: SampleArt;
}

const KEEP = {
  ru: "Сохрани лицо, черты, позу и выражение человека узнаваемыми.",
  en: "Keep the person's face, features, pose and expression recognisable.",
};

function prompt(ru: string, en: string): Text {
  return { ru: `${ru} ${KEEP.ru}`, en: `${en} ${KEEP.en}` };
}

/** The usual trio: Gemini and OpenAI edit from the full prompt, Turbotext from a compact one. */
function trio(turbo: Text, strength = 45): PresetVariant[] {
  return [
    { provider: "gemini", operation: "image_edit" },
    { provider: "openai", operation: "image_edit" },
    { provider: "turbotext", operation: "image2image", prompt: turbo, settings: { strength } },
  ];
}

export const CURATED_PRESETS: CuratedPreset[] = [
  {
    id: "watercolor",
    name: { ru: "Акварель", en: "Watercolour" },
    description: { ru: "Лёгкий акварельный портрет на бумаге", en: "A light watercolour portrait on paper" },
    prompt: prompt(
      "Перерисуй фото как акварельный портрет: прозрачные мягкие заливки, тёплая пастельная палитра, лёгкие подтёки краски и фактура белой хлопковой бумаги по краям.",
      "Repaint the photo as a watercolour portrait: soft transparent washes, a warm pastel palette, gentle paint blooms and the texture of white cotton paper at the edges.",
    ),
    variants: trio({
      ru: "акварельный портрет, мягкие прозрачные заливки, пастельные цвета, фактура бумаги",
      en: "watercolour portrait, soft transparent washes, pastel colours, paper texture",
    }),
    art: { sky: ["#fdf2e9", "#f6c6d0"], figure: "#7fa7d9", motif: "brush", accent: "#f29e9e" },
  },
  {
    id: "oil_painting",
    name: { ru: "Масляная живопись", en: "Oil painting" },
    description: {
      ru: "Классический портрет маслом с мазками",
      en: "A classic oil portrait with visible strokes",
    },
    prompt: prompt(
      "Преврати фото в классический портрет маслом: густые видимые мазки, глубокие тёплые тени, мягкий свет из окна слева и тёмный однотонный фон, как в музейной живописи.",
      "Turn the photo into a classic oil portrait: thick visible brushstrokes, deep warm shadows, soft window light from the left and a dark plain background, like a museum painting.",
    ),
    variants: trio({
      ru: "портрет маслом, густые мазки, тёплый свет, тёмный фон, музейная живопись",
      en: "oil portrait, thick brushstrokes, warm light, dark background, museum painting",
    }),
    art: { sky: ["#3b2a1e", "#6b4a2f"], figure: "#d9a066", motif: "frame", accent: "#c9a227" },
  },
  {
    id: "pop_art",
    name: { ru: "Поп-арт", en: "Pop art" },
    description: { ru: "Яркие плашки и растровые точки", en: "Bold flat colours and halftone dots" },
    prompt: prompt(
      "Сделай из фото поп-арт в духе шелкографии 1960-х: плоские насыщенные цвета — малиновый, жёлтый, бирюзовый, — чёткие чёрные контуры и крупные растровые точки на фоне.",
      "Make the photo a 1960s screen-print pop-art portrait: flat saturated colours — magenta, yellow, turquoise — crisp black outlines and large halftone dots in the background.",
    ),
    variants: trio(
      {
        ru: "поп-арт, шелкография, яркие плоские цвета, растровые точки, чёрный контур",
        en: "pop art, screen print, bright flat colours, halftone dots, black outlines",
      },
      55,
    ),
    art: { sky: ["#ffe600", "#ff3ea5"], figure: "#00c2c7", motif: "dots", accent: "#111111" },
  },
  {
    id: "comic",
    name: { ru: "Комикс", en: "Comic book" },
    description: { ru: "Герой страницы комикса", en: "The hero of a comic page" },
    prompt: prompt(
      "Нарисуй человека героем американского комикса: уверенная чернильная обводка, штриховка, яркая заливка, динамичные линии скорости на фоне и драматичный свет.",
      "Draw the person as the hero of an American comic book: confident ink outlines, cross-hatching, bold flat colour, dynamic speed lines behind and dramatic lighting.",
    ),
    variants: trio(
      {
        ru: "комикс, чернильный контур, штриховка, яркие цвета, линии скорости",
        en: "comic book art, ink outlines, cross-hatching, bold colours, speed lines",
      },
      55,
    ),
    art: { sky: ["#1e90ff", "#ffd23f"], figure: "#e63946", motif: "rays", accent: "#ffffff" },
  },
  {
    id: "anime",
    name: { ru: "Аниме", en: "Anime" },
    description: {
      ru: "Кадр из японского анимационного фильма",
      en: "A still from a Japanese animated film",
    },
    prompt: prompt(
      "Перерисуй фото в стиле японского анимационного фильма: чистые линии, большие выразительные глаза, мягкая заливка с тенями в два тона и светлое небо с пушистыми облаками на фоне.",
      "Redraw the photo in the style of a Japanese animated film: clean line art, large expressive eyes, soft cel shading in two tones and a bright sky with fluffy clouds behind.",
    ),
    variants: trio({
      ru: "аниме, чистые линии, выразительные глаза, cel shading, голубое небо с облаками",
      en: "anime style, clean line art, expressive eyes, cel shading, blue sky with clouds",
    }),
    art: { sky: ["#8ecdf7", "#e9f6ff"], figure: "#f4a6b8", motif: "halo", accent: "#ffffff" },
  },
  {
    id: "pencil_sketch",
    name: { ru: "Карандашный набросок", en: "Pencil sketch" },
    description: { ru: "Графитный рисунок на бумаге", en: "A graphite drawing on paper" },
    prompt: prompt(
      "Сделай из фото карандашный портрет: графит на кремовой бумаге, тонкая штриховка по форме, мягкая растушёвка теней и несколько свободных линий наброска по краям.",
      "Make the photo a pencil portrait: graphite on cream paper, fine hatching that follows the form, soft blended shadows and a few loose sketch lines at the edges.",
    ),
    variants: trio({
      ru: "карандашный рисунок, графит, штриховка, кремовая бумага",
      en: "pencil drawing, graphite, hatching, cream paper",
    }),
    art: { sky: ["#f5f0e6", "#e4dccb"], figure: "#555555", motif: "lines", accent: "#999999" },
  },
  {
    id: "film_noir",
    name: { ru: "Нуар", en: "Film noir" },
    description: { ru: "Чёрно-белый кадр детектива 1940-х", en: "A black-and-white 1940s detective still" },
    prompt: prompt(
      "Преврати фото в чёрно-белый кадр нуар-фильма 1940-х: жёсткий контрастный свет, полосы тени от жалюзи, лёгкий дым в воздухе и зернистость киноплёнки.",
      "Turn the photo into a black-and-white still from a 1940s film noir: hard contrasty light, stripes of shadow from window blinds, a little smoke in the air and film grain.",
    ),
    variants: [
      ...trio({
        ru: "нуар 1940-х, чёрно-белое фото, жёсткий свет, тени от жалюзи, зерно плёнки",
        en: "1940s film noir, black and white, hard light, blinds shadows, film grain",
      }),
      { provider: "local", operation: "greyscale" },
    ],
    art: { sky: ["#1a1a1a", "#5a5a5a"], figure: "#d0d0d0", motif: "lines", accent: "#000000" },
  },
  {
    id: "gatsby_1920s",
    name: { ru: "Гэтсби, 1920-е", en: "Gatsby 1920s" },
    description: { ru: "Вечеринка эпохи джаза", en: "A jazz-age party" },
    prompt: prompt(
      "Перенеси человека на вечеринку 1920-х в стиле Гэтсби: одежда эпохи джаза — смокинг или платье с бахромой и жемчуг, — золотой ар-деко зал, шампанское и тёплое сепийное фото той эпохи.",
      "Place the person at a 1920s Gatsby party: jazz-age clothes — a tuxedo or a fringed dress with pearls — a golden art-deco hall, champagne and the warm sepia look of a photo from that era.",
    ),
    variants: trio(
      {
        ru: "вечеринка 1920-х, ар-деко, золото, смокинг, платье с бахромой, сепия",
        en: "1920s party, art deco, gold, tuxedo, fringed dress, sepia photo",
      },
      55,
    ),
    art: { sky: ["#2b1d0e", "#8a6a2f"], figure: "#e8c170", motif: "rays", accent: "#f7e3a1" },
  },
  {
    id: "cyberpunk",
    name: { ru: "Киберпанк", en: "Cyberpunk" },
    description: { ru: "Неоновый город будущего ночью", en: "A neon city of the future at night" },
    prompt: prompt(
      "Помести человека на ночную улицу киберпанк-города: розовые и голубые неоновые вывески, мокрый асфальт с отражениями, лёгкий туман и футуристичная куртка с подсветкой.",
      "Put the person on a night street of a cyberpunk city: pink and cyan neon signs, wet asphalt with reflections, light haze and a futuristic jacket with glowing trim.",
    ),
    variants: trio(
      {
        ru: "киберпанк, ночной город, неон розовый и голубой, отражения, туман",
        en: "cyberpunk, night city, pink and cyan neon, reflections, haze",
      },
      55,
    ),
    art: { sky: ["#0b0030", "#3a0ca3"], figure: "#f72585", motif: "grid", accent: "#4cc9f0" },
  },
  {
    id: "renaissance",
    name: { ru: "Ренессанс", en: "Renaissance" },
    description: { ru: "Парадный портрет XVI века", en: "A 16th-century court portrait" },
    prompt: prompt(
      "Преврати фото в парадный портрет эпохи Возрождения: бархат и кружевной воротник, мягкий сфумато-свет, пейзаж с далёкими холмами за окном и лак старой картины с лёгким кракелюром.",
      "Turn the photo into a Renaissance court portrait: velvet and a lace collar, soft sfumato light, a landscape of distant hills through a window and the varnish of an old painting with fine craquelure.",
    ),
    variants: trio({
      ru: "портрет эпохи Возрождения, бархат, кружевной воротник, сфумато, старая картина",
      en: "renaissance portrait, velvet, lace collar, sfumato, old master painting",
    }),
    art: { sky: ["#4a5d3a", "#c9b37e"], figure: "#7b2d26", motif: "frame", accent: "#d4af37" },
  },
  {
    id: "astronaut",
    name: { ru: "Космонавт", en: "Astronaut" },
    description: { ru: "Портрет в скафандре на фоне Земли", en: "A spacesuit portrait with Earth behind" },
    prompt: prompt(
      "Сделай из человека космонавта: белый скафандр с нашивками, открытый шлем, за спиной — голубая Земля и звёзды, мягкий солнечный свет сбоку, как на официальном фото экипажа.",
      "Make the person an astronaut: a white spacesuit with mission patches, helmet open, the blue Earth and stars behind, soft sunlight from the side, like an official crew photo.",
    ),
    variants: trio(
      {
        ru: "космонавт, белый скафандр, Земля и звёзды на фоне, официальное фото",
        en: "astronaut, white spacesuit, Earth and stars behind, official crew photo",
      },
      55,
    ),
    art: { sky: ["#000814", "#003566"], figure: "#e0e1dd", motif: "stars", accent: "#4ea8de" },
  },
  {
    id: "winter_tale",
    name: { ru: "Зимняя сказка", en: "Winter fairy tale" },
    description: {
      ru: "Снегопад, гирлянды и волшебный лес",
      en: "Snowfall, fairy lights and a magic forest",
    },
    prompt: prompt(
      "Перенеси человека в зимнюю сказку: заснеженный еловый лес, крупные мягкие хлопья снега, тёплые огоньки гирлянд, уютный шарф и иней на ресницах, сказочный голубой вечер.",
      "Take the person into a winter fairy tale: a snowy fir forest, big soft snowflakes, warm fairy lights, a cosy scarf and frost on the eyelashes, a magical blue evening.",
    ),
    variants: trio({
      ru: "зимняя сказка, снегопад, еловый лес, гирлянды, уютный шарф, голубой вечер",
      en: "winter fairy tale, snowfall, fir forest, fairy lights, cosy scarf, blue evening",
    }),
    art: { sky: ["#1d3557", "#a8dadc"], figure: "#e63946", motif: "snow", accent: "#ffffff" },
  },
  {
    id: "pixel_art",
    name: { ru: "Пиксель-арт", en: "Pixel art" },
    description: { ru: "Персонаж 16-битной игры", en: "A 16-bit game character" },
    prompt: prompt(
      "Перерисуй фото как пиксель-арт 16-битной видеоигры: крупные квадратные пиксели, ограниченная яркая палитра, чёткие контуры и простой фон уровня с облаками.",
      "Redraw the photo as 16-bit video game pixel art: large square pixels, a limited bright palette, crisp outlines and a simple level background with clouds.",
    ),
    variants: trio(
      {
        ru: "пиксель-арт, 16 бит, крупные пиксели, яркая палитра, фон игры",
        en: "pixel art, 16-bit, large pixels, bright palette, game background",
      },
      60,
    ),
    art: { sky: ["#5c94fc", "#9cc4ff"], figure: "#e45c10", motif: "pixels", accent: "#00a800" },
  },
  {
    id: "studio_portrait",
    name: { ru: "Студийный портрет", en: "Studio portrait" },
    description: { ru: "Аккуратная ретушь и ровный фон", en: "Careful retouching on a clean backdrop" },
    prompt: prompt(
      "Сделай профессиональный студийный портрет: естественная аккуратная ретушь кожи, мягкий рисующий свет с заполнением, ровный светло-серый фон и чёткий фокус на глазах.",
      "Make a professional studio portrait: natural, careful skin retouching, soft key light with fill, an even light-grey backdrop and crisp focus on the eyes.",
    ),
    variants: trio(
      {
        ru: "студийный портрет, мягкий свет, ретушь кожи, светло-серый фон",
        en: "studio portrait, soft light, skin retouch, light grey backdrop",
      },
      30,
    ),
    art: { sky: ["#d9d9d9", "#b0b0b0"], figure: "#6c757d", motif: "halo", accent: "#f8f9fa" },
  },
  {
    id: "classic_bw",
    name: { ru: "Классика ч/б (офлайн)", en: "Classic B&W (offline)" },
    description: {
      ru: "Чёрно-белое фото без интернета и ключей",
      en: "Black and white with no internet or keys",
    },
    prompt: prompt(
      "Сделай из фото классический чёрно-белый портрет: богатые полутона, глубокий чёрный, мягкое зерно плёнки.",
      "Make the photo a classic black-and-white portrait: rich midtones, deep blacks, soft film grain.",
    ),
    variants: [
      { provider: "local", operation: "greyscale" },
      { provider: "gemini", operation: "image_edit" },
    ],
    art: { sky: ["#f0f0f0", "#808080"], figure: "#222222", motif: "bokeh", accent: "#ffffff" },
  },
];

export function curatedPreset(id: string): CuratedPreset | undefined {
  return CURATED_PRESETS.find((p) => p.id === id);
}
