import type { Database } from 'better-sqlite3'

/** Exports: when, where, what and how many, and whether they finished. */
export function migrate0040(db: Database): void {
  db.exec(`
    CREATE TABLE exports (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
      destination TEXT NOT NULL,
      options TEXT NOT NULL,
      classes TEXT NOT NULL DEFAULT '[]',
      files INTEGER NOT NULL DEFAULT 0,
      bytes INTEGER NOT NULL DEFAULT 0,
      zip_path TEXT,
      pid INTEGER,
      error TEXT,
      created_at INTEGER NOT NULL,
      finished_at INTEGER,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX exports_by_dataset ON exports (dataset_id, id);
  `)
}
