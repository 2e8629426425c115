/**
 * The media backend the configuration asks for: a bucket when S3_BUCKET is set — with the local
 * result spool in front of it (src/media/spool.ts) — else the directory MEDIA_ROOT.
 */
import type { Config } from "../config";
import type { Logger } from "../lib/log";
import { S3MediaStore } from "./s3";
import { ResultSpool, SpooledMediaStore } from "./spool";
import { LocalMediaStore, type MediaStore } from "./storage";

export function openMediaStore(
  config: Pick<Config, "s3" | "mediaRoot" | "dataDir" | "mediaSpoolMaxBytes">,
  log: Logger,
): MediaStore {
  if (!config.s3) return new LocalMediaStore(config.mediaRoot);
  return new SpooledMediaStore(
    new S3MediaStore(config.s3, config.dataDir),
    new ResultSpool(config.dataDir, config.mediaSpoolMaxBytes, log),
  );
}
