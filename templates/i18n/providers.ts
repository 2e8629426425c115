/**
 * The words of the provider features — the live check, quotas and style presets — in Russian and
 * English. Kept beside ru.ts/en.ts in a dictionary of their own; `pt(v)` picks the language.
 */
import type { Lang } from "./index";
import { enCount, ruCount } from "./plural";

const ru = {
  quota: {
    title: "Квоты провайдеров на сегодня",
    hint: "Каждый запрос к провайдеру считается. Сутки квоты заканчиваются там же, где у провайдера: Gemini — в полночь по тихоокеанскому времени, OpenAI — в полночь UTC, Turbotext — в полночь по Москве.",
    requests: (n: number, limit: number | null) =>
      limit === null
        ? `${ruCount(n, "запрос", "запроса", "запросов")} — лимит не задан`
        : `${n} из ${ruCount(limit, "запроса", "запросов", "запросов")}`,
    resets: (when: string) => `Сброс: ${when}`,
    exhaustedByProvider: "Провайдер сообщил, что квота исчерпана.",
    warn: (provider: string, percent: number, when: string) =>
      `${provider}: использовано ${percent} % дневной квоты. Сброс: ${when}.`,
    exhausted: (provider: string, when: string) =>
      `${provider}: квота на сегодня исчерпана — новые фото в слоты этого провайдера сразу отклоняются (будка печатает оригинал). Сброс: ${when}.`,
    resume: "Возобновить",
    confirmResume: (provider: string) =>
      `Снова отправлять фото в ${provider}? Если квота действительно исчерпана, будки получат ошибку провайдера.`,
    resumed: (provider: string) => `${provider}: фото снова принимаются.`,
    raiseLimit: "Поднять лимит",
    limitsTitle: "Дневные лимиты запросов",
    limitsHint:
      "Сколько запросов в сутки квоты может сделать каждый провайдер. Пусто — без лимита. При 80 % появляется предупреждение, при 100 % будки получают 429 и печатают оригинал.",
    limitLabel: (provider: string) => `${provider}, запросов в сутки`,
    unlimited: "без лимита",
    saveLimits: "Сохранить лимиты",
    limitsSaved: "Лимиты сохранены.",
    zone: {
      "America/Los_Angeles": "полночь по тихоокеанскому времени",
      UTC: "полночь UTC",
      "Europe/Moscow": "полночь по Москве",
    } as Record<string, string>,
  },
  check: {
    button: "Проверить",
    running: "Проверяем…",
    ok: (seconds: string) => `Провайдер ответил как надо за ${seconds} с.`,
    failed: "Проверка не прошла",
    providerSaid: "Слова провайдера:",
    model: (m: string) => `Модель: ${m}`,
    models: (list: string) => `Доступные модели изображений: ${list}`,
    balance: (facts: string) => `Баланс: ${facts}`,
    rateLimits: (facts: string) => `Лимиты: ${facts}`,
    today: (n: number, limit: number | null) =>
      limit === null ? `Сегодня запросов: ${n}` : `Сегодня запросов: ${n} из ${limit}`,
    codes: {
      no_key: "Ключ не задан.",
      bad_key: "Провайдер отклонил ключ.",
      unknown_model: "Эта модель недоступна аккаунту.",
      no_public_url: "Не задан публичный адрес сервера.",
      unreachable_public_url: "Провайдер не может скачать фото с публичного адреса сервера.",
      quota_exhausted: "Квота или баланс исчерпаны.",
      unavailable: "Провайдер недоступен.",
      timeout: "Провайдер не ответил вовремя.",
      failed: "Провайдер ответил не так, как ожидалось.",
    } as Record<string, string>,
  },
  presets: {
    title: "Стили-пресеты",
    hint: "Один щелчок заполняет форму слота провайдером, операцией и промптом пресета; дальше всё можно править и сохранить.",
    apply: "Применить",
    applied: (name: string) => `Пресет «${name}» применён — проверьте и сохраните слот.`,
    mine: "Пресеты операторов",
    saveTitle: "Сохранить настройки слота как пресет",
    name: "Название пресета",
    save: "Сохранить пресет",
    saved: (name: string) => `Пресет «${name}» сохранён.`,
    remove: "Удалить",
    confirmRemove: "Удалить этот пресет?",
    removed: "Пресет удалён.",
    by: (who: string) => `сохранил ${who}`,
    providers: (list: string) => `Для: ${list}`,
    nameRequired: "Введите название пресета.",
  },
};

export type ProvidersDict = typeof ru;

const en: ProvidersDict = {
  quota: {
    title: "Provider quotas today",
    hint: "Every request to a provider is counted. A quota day ends where the provider's does: Gemini at midnight Pacific time, OpenAI at midnight UTC, Turbotext at midnight Moscow time.",
    requests: (n: number, limit: number | null) =>
      limit === null
        ? `${enCount(n, "request", "requests")} — no limit set`
        : `${n} of ${enCount(limit, "request", "requests")}`,
    resets: (when: string) => `Resets: ${when}`,
    exhaustedByProvider: "The provider said its quota is exhausted.",
    warn: (provider: string, percent: number, when: string) =>
      `${provider}: ${percent} % of the daily quota used. Resets: ${when}.`,
    exhausted: (provider: string, when: string) =>
      `${provider}: today's quota is used up — new photos to this provider's slots are refused at once (the booth prints the original). Resets: ${when}.`,
    resume: "Resume",
    confirmResume: (provider: string) =>
      `Send photos to ${provider} again? If its quota really is used up, booths will get the provider's error.`,
    resumed: (provider: string) => `${provider}: photos are taken again.`,
    raiseLimit: "Raise the limit",
    limitsTitle: "Daily request limits",
    limitsHint:
      "How many requests each provider may take per quota day. Empty — no limit. At 80 % a warning appears; at 100 % booths get a 429 and print the original.",
    limitLabel: (provider: string) => `${provider}, requests per day`,
    unlimited: "no limit",
    saveLimits: "Save limits",
    limitsSaved: "Limits saved.",
    zone: {
      "America/Los_Angeles": "midnight Pacific time",
      UTC: "midnight UTC",
      "Europe/Moscow": "midnight Moscow time",
    } as Record<string, string>,
  },
  check: {
    button: "Check",
    running: "Checking…",
    ok: (seconds: string) => `The provider answered as expected in ${seconds} s.`,
    failed: "The check failed",
    providerSaid: "The provider's own words:",
    model: (m: string) => `Model: ${m}`,
    models: (list: string) => `Image models available: ${list}`,
    balance: (facts: string) => `Balance: ${facts}`,
    rateLimits: (facts: string) => `Rate limits: ${facts}`,
    today: (n: number, limit: number | null) =>
      limit === null ? `Requests today: ${n}` : `Requests today: ${n} of ${limit}`,
    codes: {
      no_key: "No key is set.",
      bad_key: "The provider rejected the key.",
      unknown_model: "The account cannot use this model.",
      no_public_url: "The server's public address is not set.",
      unreachable_public_url: "The provider cannot download the photo from the server's public address.",
      quota_exhausted: "The quota or balance is used up.",
      unavailable: "The provider is unavailable.",
      timeout: "The provider did not answer in time.",
      failed: "The provider did not answer as expected.",
    } as Record<string, string>,
  },
  presets: {
    title: "Style presets",
    hint: "One click fills the slot form with the preset's provider, operation and prompt; then edit anything and save.",
    apply: "Apply",
    applied: (name: string) => `Preset “${name}” applied — review and save the slot.`,
    mine: "Operators' presets",
    saveTitle: "Save this slot's settings as a preset",
    name: "Preset name",
    save: "Save preset",
    saved: (name: string) => `Preset “${name}” saved.`,
    remove: "Delete",
    confirmRemove: "Delete this preset?",
    removed: "Preset deleted.",
    by: (who: string) => `saved by ${who}`,
    providers: (list: string) => `For: ${list}`,
    nameRequired: "Enter a name for the preset.",
  },
};

const dictionaries: Record<Lang, ProvidersDict> = { ru, en };

/** The provider features' dictionary for the view's language. */
export function pt(v: { lang: Lang }): ProvidersDict {
  return dictionaries[v.lang];
}
