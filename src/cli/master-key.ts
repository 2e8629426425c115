/**
 * `photochanger rotate-master-key`: a new master key, and every secret sealed with the old one
 * (provider keys, the notification webhook URL and bot token) re-encrypted under it.
 *
 * The order makes every interruption recoverable: the old key is copied to master.key.old and the
 * new one written to master.key.new; the re-encrypted values and the new key's fingerprint are
 * committed in one transaction; only then is master.key.new renamed over master.key (atomic) and
 * master.key.old removed. A run that finds master.key.new left behind finishes that rotation when
 * the database already carries the new key's fingerprint (and stops there), and discards it
 * otherwise.
 *
 * Running instances hold the old key in memory, so the command refuses while any is live: stop the
 * service, rotate, start it. Admin sessions end (their signing key derives from the master key).
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Config } from "../config";
import type { Logger } from "../lib/log";
import { decryptSecret, encryptSecret, loadOrCreateMasterKey, masterKeyFingerprint } from "../lib/secrets";
import { LEASE_TTL_MS } from "../queue/index";
import { KEYS } from "../settings/service";
import { Store } from "../store/index";
import { openToolDatabase } from "./database";

export class RotationError extends Error {}

export interface RotationReport {
  resealed: string[];
  /** A rotation an earlier run left half done, finished now. */
  completedEarlier: boolean;
}

function readKey(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new RotationError(`${path} is damaged (expected 32 bytes of base64)`);
  return key;
}

function writeKey(path: string, key: Buffer): void {
  writeFileSync(path, key.toString("base64"), { mode: 0o600 });
  chmodSync(path, 0o600);
}

export async function rotateMasterKey(
  config: Config,
  log: Logger,
  now = new Date(),
): Promise<RotationReport> {
  const keyFile = join(config.dataDir, "master.key");
  const newFile = `${keyFile}.new`;
  const oldFile = `${keyFile}.old`;
  if (!existsSync(keyFile))
    throw new RotationError(`there is no master key at ${keyFile}: nothing to rotate`);
  const db = await openToolDatabase(config, log);
  const store = Store.open(db.url, { max: 2 });
  try {
    const recorded = (await store.settings.get(KEYS.masterKeyFingerprint))?.value ?? null;
    if (existsSync(newFile)) {
      const committed = recorded === masterKeyFingerprint(readKey(newFile));
      if (committed) renameSync(newFile, keyFile);
      else rmSync(newFile);
      rmSync(oldFile, { force: true });
      if (committed) return { resealed: [], completedEarlier: true };
    }
    const live = await store.instances.countLive(LEASE_TTL_MS);
    if (live > 0) {
      throw new RotationError(
        `${live} PhotoChanger server${live === 1 ? " is" : "s are"} running on this database and hold the current key: ` +
          "stop them first (systemctl stop photochanger), rotate, then start them again",
      );
    }
    const oldKey = loadOrCreateMasterKey(keyFile);
    if (recorded !== null && recorded !== masterKeyFingerprint(oldKey)) {
      throw new RotationError(
        `${keyFile} is not the key this database's secrets were sealed with (its fingerprint differs): ` +
          "put the right master.key in place before rotating",
      );
    }
    // Everything is decrypted before anything is written: a value that does not open stops here.
    const sealed = await store.settings.sealed();
    const plain = sealed.map((row) => {
      try {
        return { key: row.key, value: decryptSecret(oldKey, row.sealed, row.key) };
      } catch {
        throw new RotationError(
          `the stored ${row.key} cannot be decrypted with ${keyFile}: nothing was changed`,
        );
      }
    });
    const newKey = randomBytes(32);
    copyFileSync(keyFile, oldFile);
    chmodSync(oldFile, 0o600);
    writeKey(newFile, newKey);
    try {
      await store.settings.reseal(
        plain.map((p) => ({ key: p.key, sealed: encryptSecret(newKey, p.value, p.key) })),
        { key: KEYS.masterKeyFingerprint, value: masterKeyFingerprint(newKey) },
        now,
      );
    } catch (err) {
      // Not committed: the old key still opens every value.
      rmSync(newFile, { force: true });
      rmSync(oldFile, { force: true });
      throw err;
    }
    renameSync(newFile, keyFile);
    rmSync(oldFile, { force: true });
    await store.audit.append("cli", "master_key.rotated", { resealed: plain.map((p) => p.key) }, now);
    return { resealed: plain.map((p) => p.key), completedEarlier: false };
  } finally {
    await store.close();
    await db.stop();
  }
}
