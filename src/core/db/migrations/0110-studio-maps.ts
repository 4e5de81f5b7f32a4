import type { Database } from 'better-sqlite3'

/**
 * The latent studio's maps, cached per run, checkpoint (kind and epoch), method, features and
 * generation (0: real images only). `images_key` names the dataset's image set the map was made
 * from (count and highest id), so a map of a dataset that has since changed is made again.
 * `points` is the map's JSON (ids, classes, coordinates): read and written whole, never queried.
 */
export function migrate0110(db: Database): void {
  db.exec(`
    CREATE TABLE studio_maps (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      checkpoint TEXT NOT NULL CHECK (checkpoint IN ('best', 'last')),
      epoch INTEGER NOT NULL,
      method TEXT NOT NULL CHECK (method IN ('pca', 'umap')),
      features TEXT NOT NULL CHECK (features IN ('latent', 'classifier')),
      generation_id INTEGER NOT NULL DEFAULT 0,
      images_key TEXT NOT NULL,
      points TEXT NOT NULL,
      seconds REAL NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (run_id, checkpoint, method, features, generation_id)
    ) STRICT;
  `)
}
