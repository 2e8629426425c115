/** JSON lines on stdout (journald-friendly). Event names are stable; never pass images or secrets. */
import type { LogLevel } from "../config";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(`${line}\n`);

/** Fields whose values are never written, whoever passes them (a last line of defence). */
const SECRET_FIELD = /pass(word)?|secret|api_?key|token|authorization|cookie/i;

function serialize(key: string, value: unknown, depth = 0): unknown {
  if (SECRET_FIELD.test(key) && value != null && typeof value !== "boolean") return "[redacted]";
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (
    depth < 3 &&
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, serialize(k, v, depth + 1)]));
  }
  return value;
}

export function createLogger(
  level: LogLevel = "info",
  sink: LogSink = stdoutSink,
  base: LogFields = {},
): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (ORDER[lvl] < min) return;
    const record: LogFields = { time: new Date().toISOString(), level: lvl, event, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serialize(k, v);
    sink(JSON.stringify(record));
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger("error", () => {});
