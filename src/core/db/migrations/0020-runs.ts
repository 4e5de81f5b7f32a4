import type { Database } from 'better-sqlite3'

/** Training runs, their per-epoch metrics and checkpoints. */
export function migrate0020(db: Database): void {
  db.exec(`
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'diverged', 'interrupted')),
      settings TEXT NOT NULL,
      class_names TEXT NOT NULL,
      backend TEXT,
      device TEXT,
      backend_notes TEXT,
      pid INTEGER,
      error TEXT,
      epochs_done INTEGER NOT NULL DEFAULT 0,
      best_val_loss REAL,
      train_images INTEGER,
      val_images INTEGER,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX runs_by_dataset ON runs (dataset_id, id);

    CREATE TABLE run_epochs (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      epoch INTEGER NOT NULL,
      loss REAL NOT NULL,
      reconstruction REAL NOT NULL,
      kl REAL NOT NULL,
      val_loss REAL,
      val_reconstruction REAL,
      val_kl REAL,
      active_units INTEGER NOT NULL,
      learning_rate REAL NOT NULL,
      images_per_second REAL NOT NULL,
      seconds REAL NOT NULL,
      PRIMARY KEY (run_id, epoch)
    ) STRICT;

    CREATE TABLE checkpoints (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      kind TEXT NOT NULL CHECK (kind IN ('last', 'best')),
      epoch INTEGER NOT NULL,
      path TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (run_id, kind)
    ) STRICT;
  `)
}
