import type { Database } from 'better-sqlite3'

/**
 * The evaluation split: images held out of every run (assigned per dataset on first use, so
 * `datasets.held_out_at` is NULL until then), and whether a run trained without them (runs from
 * before the split trained on every image, and a resume keeps what its run began with).
 */
export function migrate0095(db: Database): void {
  db.exec(`
    ALTER TABLE images ADD COLUMN held_out INTEGER NOT NULL DEFAULT 0 CHECK (held_out IN (0, 1));
    ALTER TABLE datasets ADD COLUMN held_out_at INTEGER;
    ALTER TABLE runs ADD COLUMN held_out_excluded INTEGER NOT NULL DEFAULT 0 CHECK (held_out_excluded IN (0, 1));
  `)
}
