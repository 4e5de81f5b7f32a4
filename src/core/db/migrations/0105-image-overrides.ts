import type { Database } from 'better-sqlite3'

/**
 * A person's corrections of a dataset: an image relabelled (class_id, the class it counts as now)
 * or excluded. The source files and the imported rows stay as they are (images.class_id is still
 * the folder's class); `labelled_images` is the dataset as everything downstream sees it: every
 * usable image once, under its current class, with the folder's class as `original_class_id`,
 * excluded ones left out. A run records how many overrides it trained with.
 */
export function migrate0105(db: Database): void {
  db.exec(`
    CREATE TABLE image_overrides (
      image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      class_id INTEGER REFERENCES classes(id) ON DELETE SET NULL,
      excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX image_overrides_by_dataset ON image_overrides (dataset_id);

    CREATE VIEW labelled_images AS
      SELECT i.id, i.dataset_id, COALESCE(o.class_id, i.class_id) AS class_id,
             i.class_id AS original_class_id, i.rel_path, i.slot, i.held_out, i.width, i.height,
             i.format, i.sha256
      FROM images i LEFT JOIN image_overrides o ON o.image_id = i.id
      WHERE i.status = 'ok' AND i.class_id IS NOT NULL AND COALESCE(o.excluded, 0) = 0;

    ALTER TABLE runs ADD COLUMN overrides TEXT;
  `)
}
