import type { Database } from 'better-sqlite3'

/** Downstream checks of generations: the arms' metrics, the verdict, and their state. */
export function migrate0097(db: Database): void {
  db.exec(`
    CREATE TABLE evaluations (
      id INTEGER PRIMARY KEY,
      generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      dataset_id INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'interrupted')),
      seeds INTEGER NOT NULL,
      epochs INTEGER,
      held_out TEXT NOT NULL DEFAULT '[]',
      arms TEXT NOT NULL DEFAULT '[]',
      best TEXT,
      verdict TEXT,
      seconds REAL,
      run_excluded_held_out INTEGER NOT NULL,
      synthetic_images INTEGER,
      error TEXT,
      pid INTEGER,
      supervisor_pid INTEGER,
      created_at INTEGER NOT NULL,
      finished_at INTEGER
    ) STRICT;
    CREATE INDEX evaluations_by_generation ON evaluations (generation_id, id);
  `)
}
