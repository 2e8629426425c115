/** Template images bound to slots by role. Files live under templates/<slot>/ and are never purged. */
import { randomUUID } from "node:crypto";
import type { JobTemplate, TemplateMediaRow } from "../db/schema";
import type { TemplateRowStore } from "../store/media";
import { EXT, type ImageFormat } from "./images";
import type { MediaStore } from "./storage";

export class TemplateStore {
  constructor(
    private readonly rows: TemplateRowStore,
    private readonly media: MediaStore,
  ) {}

  forSlot(slotId: string): Promise<TemplateMediaRow[]> {
    return this.rows.forSlot(slotId);
  }

  /** The templates a job snapshots: the newest per role. */
  async snapshot(slotId: string): Promise<JobTemplate[]> {
    const byRole = new Map<string, JobTemplate>();
    for (const t of await this.rows.cachedForSlot(slotId)) {
      byRole.set(t.role, { id: t.id, role: t.role, path: t.path, mime: t.mime });
    }
    return [...byRole.values()];
  }

  async add(input: {
    slotId: string;
    role: string;
    bytes: Uint8Array;
    mime: string;
    format: ImageFormat;
    sha256: string;
    filename: string | null;
    width: number | null;
    height: number | null;
    uploadedBy: string;
    now: Date;
  }): Promise<TemplateMediaRow> {
    const id = randomUUID();
    const path = await this.media.writeAtomic(
      `templates/${input.slotId}/${id}.${EXT[input.format]}`,
      input.bytes,
    );
    return this.rows.insert({
      id,
      slotId: input.slotId,
      role: input.role,
      path,
      mime: input.mime,
      sizeBytes: input.bytes.byteLength,
      sha256: input.sha256,
      filename: input.filename,
      width: input.width,
      height: input.height,
      uploadedBy: input.uploadedBy,
      createdAt: input.now,
    });
  }

  get(slotId: string, id: string): Promise<TemplateMediaRow | null> {
    return this.rows.get(slotId, id);
  }

  async remove(slotId: string, id: string): Promise<boolean> {
    const row = await this.rows.remove(slotId, id);
    if (!row) return false;
    await this.media.remove(row.path);
    return true;
  }
}
