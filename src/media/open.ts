/** The media backend the configuration asks for: a bucket when S3_BUCKET is set, else MEDIA_ROOT. */
import type { Config } from "../config";
import { S3MediaStore } from "./s3";
import { LocalMediaStore, type MediaStore } from "./storage";

export function openMediaStore(config: Pick<Config, "s3" | "mediaRoot" | "dataDir">): MediaStore {
  return config.s3 ? new S3MediaStore(config.s3, config.dataDir) : new LocalMediaStore(config.mediaRoot);
}
