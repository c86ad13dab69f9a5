import type { Db } from '../db/database.js';

/**
 * Who holds each image tag the console has loaded or pulled. Tags are engine-wide, so a job's
 * image path is only as trustworthy as whoever may move it; a tag without a row here (built by
 * the operator) belongs to the console.
 */
export class ImageTagRepository {
  constructor(private readonly db: Db) {}

  /** The user holding the tag (its familiar form, see normalizeTag); null when no user does. */
  owner(tag: string): number | null {
    const r = this.db.prepare<[string], { owner_id: number }>('SELECT owner_id FROM image_tags WHERE tag = ?').get(tag);
    return r?.owner_id ?? null;
  }

  record(tag: string, ownerId: number, imageId: string | null): void {
    this.db
      .prepare(
        `INSERT INTO image_tags (tag, owner_id, image_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tag) DO UPDATE SET owner_id = excluded.owner_id, image_id = excluded.image_id, updated_at = excluded.updated_at`,
      )
      .run(tag, ownerId, imageId, new Date().toISOString());
  }
}
