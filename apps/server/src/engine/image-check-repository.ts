import type { Db } from '../db/database.js';

export interface ImageVerdict {
  imageId: string;
  imageRef: string;
  passed: boolean;
  reason: string | null;
  checkedAt: string;
}

/** The image check's verdicts, one per image ID, so an image is checked once. */
export class ImageCheckRepository {
  constructor(private readonly db: Db) {}

  get(imageId: string): ImageVerdict | null {
    const r = this.db
      .prepare<[string], { image_id: string; image_ref: string; passed: number; reason: string | null; checked_at: string }>(
        'SELECT * FROM image_checks WHERE image_id = ?',
      )
      .get(imageId);
    return r ? { imageId: r.image_id, imageRef: r.image_ref, passed: r.passed === 1, reason: r.reason, checkedAt: r.checked_at } : null;
  }

  save(v: ImageVerdict): void {
    this.db
      .prepare(
        `INSERT INTO image_checks (image_id, image_ref, passed, reason, checked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (image_id) DO UPDATE SET image_ref = excluded.image_ref, passed = excluded.passed,
           reason = excluded.reason, checked_at = excluded.checked_at`,
      )
      .run(v.imageId, v.imageRef, v.passed ? 1 : 0, v.reason, v.checkedAt);
  }
}
