/**
 * The one error type and the one registry of error codes. Every refusal in the product is an
 * `AppError` with a registered code: the registry gives its HTTP status and the texts the pages
 * show (Russian and English); the message the API returns is the server's own, more specific one.
 * The central handler (src/app-errors.tsx) renders any error as the JSON envelope
 * `{"error": {"code", "message", "details"}}` for API routes or as an HTML page for the web UI;
 * anything that is not an AppError becomes a 500 `internal_error` with a correlation id.
 */

interface ErrorSpec {
  status: number;
  ru: string;
  en: string;
}

export const ERROR_CODES = {
  // request shape
  invalid_request: {
    status: 400,
    ru: "Запрос заполнен неверно.",
    en: "The request is not filled in correctly.",
  },
  invalid_payload: {
    status: 400,
    ru: "Файл не получен — выберите изображение ещё раз.",
    en: "No file arrived — choose the image again.",
  },
  validation_failed: { status: 422, ru: "Проверьте выделенные поля.", en: "Check the highlighted fields." },
  payload_too_large: { status: 413, ru: "Файл слишком большой.", en: "The file is too large." },
  image_too_large: {
    status: 413,
    ru: "В изображении слишком много пикселей.",
    en: "The image has too many pixels.",
  },
  unsupported_media_type: {
    status: 415,
    ru: "Это не изображение JPG, PNG, WebP или HEIC.",
    en: "This is not a JPG, PNG, WebP or HEIC image.",
  },
  not_found: { status: 404, ru: "Страница не найдена.", en: "Page not found." },
  length_required: {
    status: 411,
    ru: "Запрос без длины тела не принимается.",
    en: "Send the request with a Content-Length.",
  },
  too_many_requests: {
    status: 429,
    ru: "Слишком много запросов — подождите немного.",
    en: "Too many requests — wait a little.",
  },
  // authentication and rights
  unauthorized: {
    status: 401,
    ru: "Сессия истекла — войдите снова.",
    en: "Your session has expired — sign in again.",
  },
  invalid_credentials: { status: 401, ru: "Неверный пароль.", en: "Wrong password." },
  login_throttled: {
    status: 429,
    ru: "Слишком много неудачных попыток входа — подождите.",
    en: "Too many failed sign-ins — wait a little.",
  },
  too_many_attempts: {
    status: 429,
    ru: "Слишком много неверных паролей — подождите и попробуйте снова.",
    en: "Too many wrong passwords — wait and try again.",
  },
  block_not_found: {
    status: 404,
    ru: "Такой блокировки нет — возможно, её уже сняли.",
    en: "No such block — it may have been lifted already.",
  },
  forbidden: { status: 403, ru: "Недостаточно прав.", en: "You may not do this." },
  csrf_refused: {
    status: 403,
    ru: "Запрос отклонён: отправьте форму со страницы этого сервера.",
    en: "Request refused: submit the form from this server's pages.",
  },
  // slots, templates, jobs, results
  slot_not_found: { status: 404, ru: "Такого слота нет.", en: "No such slot." },
  slot_disabled: { status: 404, ru: "Слот выключен.", en: "The slot is off." },
  version_conflict: {
    status: 409,
    ru: "Слот успел изменить кто-то другой. Обновите страницу.",
    en: "Someone else changed this slot meanwhile. Reload the page.",
  },
  template_not_found: { status: 404, ru: "Шаблон уже удалён.", en: "The template is already gone." },
  template_in_use: {
    status: 409,
    ru: "Это последний шаблон, нужный операции слота.",
    en: "This is the last template the slot's operation needs.",
  },
  job_not_found: { status: 404, ru: "Такой задачи нет.", en: "No such job." },
  job_not_active: { status: 409, ru: "Задача уже завершилась.", en: "The job has already ended." },
  job_active: {
    status: 409,
    ru: "Задача ещё выполняется — отмените её или дождитесь конца.",
    en: "The job is still running — cancel it or wait for it to end.",
  },
  job_succeeded: {
    status: 409,
    ru: "Задача выполнена успешно — перезапустить можно только неудачную.",
    en: "The job succeeded — only a job that failed can be run again.",
  },
  photo_gone: {
    status: 409,
    ru: "Исходное фото этой задачи уже не хранится.",
    en: "The photo of this job is no longer kept.",
  },
  result_not_found: { status: 404, ru: "Результат не найден.", en: "Result not found." },
  result_expired: {
    status: 410,
    ru: "Срок хранения результата истёк.",
    en: "This result has expired.",
  },
  result_deleted: {
    status: 410,
    ru: "Фото удалено по просьбе студии.",
    en: "The photo was removed at the studio's request.",
  },
  thumbnail_not_found: {
    status: 404,
    ru: "Миниатюра не найдена.",
    en: "Thumbnail not found.",
  },
  media_not_found: { status: 404, ru: "Файл не найден.", en: "File not found." },
  media_expired: { status: 410, ru: "Срок хранения файла истёк.", en: "This file has expired." },
  // the queue and the providers (the booth's answers)
  queue_busy: {
    status: 429,
    ru: "Очередь переполнена, попробуйте через несколько секунд.",
    en: "The queue is full; try again in a few seconds.",
  },
  sync_timeout: {
    status: 504,
    ru: "Провайдер не уложился в отведённое время.",
    en: "The provider did not finish in time.",
  },
  provider_error: { status: 502, ru: "Провайдер вернул ошибку.", en: "The provider returned an error." },
  invalid_config: {
    status: 502,
    ru: "Настройки слота неполные или неверные.",
    en: "The slot's settings are incomplete or invalid.",
  },
  provider_blocked: {
    status: 422,
    ru: "Провайдер отклонил изображение фильтром безопасности.",
    en: "The provider's safety filter refused the image.",
  },
  job_cancelled: { status: 503, ru: "Задачу отменили.", en: "The job was cancelled." },
  provider_quota_exhausted: {
    status: 429,
    ru: "Дневная квота провайдера исчерпана — будка печатает оригинал.",
    en: "The provider's daily quota is used up — the booth prints the original.",
  },
  provider_not_found: { status: 404, ru: "Такого провайдера нет.", en: "No such provider." },
  preset_not_found: { status: 404, ru: "Такого пресета нет.", en: "No such preset." },
  preset_read_only: {
    status: 409,
    ru: "Встроенные пресеты нельзя удалить.",
    en: "Curated presets cannot be deleted.",
  },
  client_closed: { status: 499, ru: "Клиент закрыл соединение.", en: "The client closed the connection." },
  // the server itself
  // the database or the media bucket cannot be reached, or the server is restarting
  service_unavailable: {
    status: 503,
    ru: "Сервер временно недоступен — попробуйте через несколько секунд.",
    en: "The server is temporarily unavailable — try again in a few seconds.",
  },
  not_ready: {
    status: 503,
    ru: "Сервер не готов принимать снимки.",
    en: "The server is not ready for uploads.",
  },
  insufficient_storage: { status: 507, ru: "На диске сервера нет места.", en: "The server's disk is full." },
  storage_full: { status: 507, ru: "На диске сервера нет места.", en: "The server's disk is full." },
  provider_no_image: {
    status: 502,
    ru: "Провайдер не вернул изображение.",
    en: "The provider returned no image.",
  },
  provider_not_configured: {
    status: 502,
    ru: "Ключ провайдера не задан.",
    en: "The provider's key is not set.",
  },
  internal_error: { status: 500, ru: "Внутренняя ошибка сервера.", en: "Internal server error." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The page texts of every code in one language (the `errors.codes` of the page dictionaries). */
export function errorTexts(lang: "ru" | "en"): Record<string, string> {
  return Object.fromEntries(Object.entries(ERROR_CODES).map(([code, spec]) => [code, spec[lang]]));
}

/** The one error type: a registered code, the server's message, details for the client, extra headers. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code].en,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_CODES[code].status;
  }
}

export interface ErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function envelope(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorEnvelope {
  return { error: { code, message, details } };
}

/** The JSON answer of an AppError (no-store; its own headers first, then `extraHeaders`). */
export function errorResponse(err: AppError, extraHeaders: Record<string, string> = {}): Response {
  return Response.json(envelope(err.code, err.message, err.details), {
    status: err.status,
    headers: { "Cache-Control": "no-store", ...err.headers, ...extraHeaders },
  });
}

/** How long a client is told to wait while the database is unreachable. */
const DB_RETRY_AFTER_S = 5;

/** The database is down or too slow to answer: 503 with Retry-After, never a 500. */
export function databaseUnavailable(details: Record<string, unknown> = {}): AppError {
  return new AppError("service_unavailable", "The database is not reachable; try again shortly", details, {
    "Retry-After": String(DB_RETRY_AFTER_S),
  });
}

/**
 * The media storage (the bucket) cannot be reached or did not answer in time: 503 with Retry-After,
 * like a database outage. Once a job exists its id goes with it.
 */
export function mediaUnavailable(details: Record<string, unknown> = {}): AppError {
  return new AppError(
    "service_unavailable",
    "The media storage (bucket) is not reachable; try again shortly",
    details,
    { "Retry-After": String(DB_RETRY_AFTER_S) },
  );
}
