import type { Database } from 'better-sqlite3'

/** Datasets, their classes and every file seen under the source folder (used or skipped). */
export function migrate0010(db: Database): void {
  db.exec(`
    CREATE TABLE datasets (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      root TEXT NOT NULL UNIQUE,
      size INTEGER NOT NULL CHECK (size BETWEEN 28 AND 128),
      channels TEXT NOT NULL CHECK (channels IN ('gray', 'rgb', 'rgba')),
      fit TEXT NOT NULL CHECK (fit IN ('cover', 'contain', 'fill')),
      status TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'incomplete')),
      store_generation INTEGER NOT NULL DEFAULT 1,
      next_slot INTEGER NOT NULL DEFAULT 0,
      import_pid INTEGER,
      last_error TEXT,
      last_import TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      imported_at INTEGER
    ) STRICT;

    CREATE TABLE classes (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      folder TEXT NOT NULL,
      name TEXT NOT NULL,
      UNIQUE (dataset_id, folder)
    ) STRICT;

    CREATE TABLE images (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      class_id INTEGER REFERENCES classes(id) ON DELETE CASCADE,
      rel_path TEXT NOT NULL,
      file_size INTEGER NOT NULL,
      mtime_ms INTEGER NOT NULL,
      width INTEGER,
      height INTEGER,
      format TEXT,
      sha256 TEXT,
      status TEXT NOT NULL CHECK (status IN ('ok', 'skipped')),
      error TEXT,
      slot INTEGER,
      thumb_offset INTEGER,
      thumb_length INTEGER,
      UNIQUE (dataset_id, rel_path)
    ) STRICT;

    CREATE INDEX images_by_class ON images (dataset_id, status, class_id, id);
  `)
}
