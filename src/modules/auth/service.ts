/** Admin login: argon2id verify, throttled per user+address, same cost for unknown users. */
import { AppError } from "../../lib/errors";
import { hasControlCharacters } from "../../lib/text";
import type { Services } from "../../services";
import { clearFailures, LOGIN_RULE, loginKey, recordFailure, reserveAttempt, throttledFor } from "./throttle";

// Verified against when the username is unknown, so both paths cost one argon2id verify.
let dummyHash: Promise<string> | null = null;
function dummy(): Promise<string> {
  dummyHash ??= Bun.password.hash("photochanger-dummy-password", { algorithm: "argon2id" });
  return dummyHash;
}

export async function checkLogin(
  services: Pick<Services, "store" | "clock" | "log">,
  username: string,
  password: string,
  clientIp: string,
): Promise<void> {
  // No account name holds a control character; a NUL could not even be looked up in PostgreSQL.
  if (hasControlCharacters(username)) throw new AppError("invalid_credentials", "Wrong username or password");
  const key = loginKey(username, clientIp);
  // The early read spares the upsert for a key already over its limit; the reservation decides.
  let wait = await throttledFor(services.store.auth, LOGIN_RULE, key, services.clock.now());
  if (wait === 0) wait = await reserveAttempt(services.store.auth, LOGIN_RULE, key, services.clock.now());
  if (wait > 0) {
    services.log.warn("auth.login.throttled", { username, client_ip: clientIp });
    throw new AppError(
      "login_throttled",
      "Too many failed logins; wait before trying again",
      { retry_after_seconds: wait },
      { "Retry-After": String(wait) },
    );
  }
  const user = await services.store.auth.user(username);
  const ok = await Bun.password.verify(password, user?.passwordHash ?? (await dummy()));
  if (!user || !ok) {
    await recordFailure(services.store.auth, LOGIN_RULE, key, services.clock.now());
    services.log.warn("auth.login.failure", { username, client_ip: clientIp, reason: "invalid_credentials" });
    throw new AppError("invalid_credentials", "Wrong username or password");
  }
  await clearFailures(services.store.auth, LOGIN_RULE, key);
  services.log.info("auth.login.success", { username, client_ip: clientIp });
}
