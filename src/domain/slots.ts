/** The booth slots: exactly `slot-001` … `slot-015` (seeded by the first migration, never created). */

export const SLOT_COUNT = 15;
/** The one pattern of a slot id (also the `slot_id_format` check in the schema). */
export const SLOT_ID_PATTERN = "^slot-0(0[1-9]|1[0-5])$";
const SLOT_ID = new RegExp(SLOT_ID_PATTERN);

export const SLOT_IDS: readonly string[] = Array.from(
  { length: SLOT_COUNT },
  (_, i) => `slot-${String(i + 1).padStart(3, "0")}`,
);

export function isSlotId(id: string): boolean {
  return SLOT_ID.test(id);
}

/** The image formats a slot may answer with: JPEG by default (the booth prints it), or the original. */
export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "original"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(value: unknown): value is OutputFormat {
  return typeof value === "string" && (OUTPUT_FORMATS as readonly string[]).includes(value);
}
