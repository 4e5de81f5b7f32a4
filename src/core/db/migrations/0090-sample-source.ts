import type { Database } from 'better-sqlite3'

/**
 * How each sample was made: `cvae` (decoded by the run's generator, every sample made before) or
 * `augment` (a classic augmentation of a real image of its class, for classes the generator
 * cannot learn), with the real image's id and the transform (JSON, AugmentTransform) that make it
 * again. A generation records which classes it augments and which of them may be mirrored
 * (JSON, AugmentSettings; NULL: none).
 */
export function migrate0090(db: Database): void {
  db.exec(`
    ALTER TABLE samples ADD COLUMN source TEXT NOT NULL DEFAULT 'cvae' CHECK (source IN ('cvae', 'augment'));
    ALTER TABLE samples ADD COLUMN source_image_id INTEGER;
    ALTER TABLE samples ADD COLUMN transform TEXT;
    ALTER TABLE generations ADD COLUMN augment TEXT;
  `)
}
