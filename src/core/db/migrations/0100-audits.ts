import type { Database } from 'better-sqlite3'

/**
 * Audits of a run's dataset (outliers and likely label errors), one row per image scored.
 * `probs` is the combined probability of every class of the run (float32, in the run's class
 * order), so the label-error score can be read against an image's current label after a relabel;
 * `nll` the negative ELBO under each class (NaN where not computed: only an image's own class and
 * the likeliest others are); `latent` the latent mean under the image's label.
 */
export function migrate0100(db: Database): void {
  db.exec(`
    CREATE TABLE audits (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      dataset_id INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'interrupted')),
      checkpoint_kind TEXT CHECK (checkpoint_kind IN ('best', 'last')),
      checkpoint_epoch INTEGER,
      class_names TEXT NOT NULL DEFAULT '[]',
      method TEXT,
      images INTEGER NOT NULL DEFAULT 0,
      seconds REAL,
      error TEXT,
      pid INTEGER,
      supervisor_pid INTEGER,
      created_at INTEGER NOT NULL,
      finished_at INTEGER
    ) STRICT;
    CREATE INDEX audits_by_run ON audits (run_id, id);

    CREATE TABLE audit_images (
      audit_id INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      label_index INTEGER NOT NULL,
      reconstruction_error REAL NOT NULL,
      anomaly_score REAL NOT NULL,
      suggested_index INTEGER NOT NULL,
      probs BLOB NOT NULL,
      nll BLOB NOT NULL,
      latent BLOB NOT NULL,
      nearest TEXT NOT NULL DEFAULT '[]',
      PRIMARY KEY (audit_id, image_id)
    ) STRICT, WITHOUT ROWID;
  `)
}
