import type { Database } from 'better-sqlite3'

/**
 * Generations (one plan run against a run's checkpoint) and their samples, each with what is
 * needed to make it again (seed and latent vector), its scores and the person's decision.
 */
export function migrate0030(db: Database): void {
  db.exec(`
    CREATE TABLE generations (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'interrupted')),
      checkpoint_kind TEXT NOT NULL CHECK (checkpoint_kind IN ('best', 'last')),
      checkpoint_epoch INTEGER NOT NULL,
      checkpoint_path TEXT NOT NULL,
      temperature REAL NOT NULL,
      filters TEXT NOT NULL,
      plan TEXT NOT NULL,
      class_names TEXT NOT NULL,
      next_seed INTEGER NOT NULL,
      classifier_accuracy REAL,
      backend TEXT,
      pid INTEGER,
      error TEXT,
      note TEXT,
      created_at INTEGER NOT NULL,
      finished_at INTEGER,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX generations_by_run ON generations (run_id, id);
    CREATE INDEX generations_by_dataset ON generations (dataset_id, id);

    CREATE TABLE samples (
      id INTEGER PRIMARY KEY,
      generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      class_index INTEGER NOT NULL,
      seed INTEGER NOT NULL,
      latent BLOB NOT NULL,
      file TEXT NOT NULL,
      confidence REAL NOT NULL,
      novelty REAL NOT NULL,
      nearest_distance REAL NOT NULL,
      nearest_image_id INTEGER,
      duplicate_of_seed INTEGER,
      status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
      reason TEXT CHECK (reason IN ('near-copy', 'low-confidence', 'duplicate')),
      reviewed INTEGER NOT NULL DEFAULT 0,
      decided_at INTEGER,
      created_at INTEGER NOT NULL,
      UNIQUE (generation_id, seed)
    ) STRICT;
    CREATE INDEX samples_by_class ON samples (generation_id, class_index, status);
  `)
}
