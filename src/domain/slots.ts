/** The booth slots: exactly `slot-001` … `slot-015` (seeded by the first migration, never created). */

/** The one pattern of a slot id (also the `slot_id_format` check in the schema). */
export const SLOT_ID_PATTERN = "^slot-0(0[1-9]|1[0-5])$";
const SLOT_ID = new RegExp(SLOT_ID_PATTERN);

export function isSlotId(id: string): boolean {
  return SLOT_ID.test(id);
}

/** The image formats a slot may answer with: JPEG by default (the booth prints it), or the original. */
export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "original"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
