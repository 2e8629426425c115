/** Starts the HTTP server on top of a runtime, with Bun's idle timeout above the ingest deadline. */

import { createApp } from "./app";
import type { Config } from "./config";
import type { Services } from "./services";

/** Above the largest T_sync (60 s) so a held booth request is never cut by Bun's idle timer. */
export const IDLE_TIMEOUT_S = 90;
/** Bun refuses larger bodies itself; the slot limit (≤ 50 MB) is enforced by the ingest route. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * TLS 1.2 limited to forward-secret AEAD suites (Mozilla's "intermediate" list without DHE): no
 * static-RSA key exchange, no CBC/SHA-1. TLS 1.3 keeps its own (all AEAD) suites.
 */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export function listen(
  services: Services,
  config: Pick<Config, "host" | "port"> & Partial<Pick<Config, "tls">>,
) {
  const app = createApp(services).listen({
    hostname: config.host,
    port: config.port,
    idleTimeout: IDLE_TIMEOUT_S,
    maxRequestBodySize: MAX_BODY_BYTES,
    development: false,
    // Native HTTPS (TLS_CERT_FILE/TLS_KEY_FILE); otherwise plain HTTP, e.g. behind a TLS proxy.
    ...(config.tls
      ? {
          tls: {
            cert: Bun.file(config.tls.certFile),
            key: Bun.file(config.tls.keyFile),
            ciphers: TLS12_CIPHERS,
          },
        }
      : {}),
  });
  return app;
}
