import type { Database } from 'better-sqlite3'

/**
 * Per-epoch figures that only some model families have (a VQ-VAE's stage, codebook perplexity,
 * used and restarted codes), as one JSON object per epoch; NULL for every older epoch and for
 * families without any, so older runs read as before.
 */
export function migrate0120(db: Database): void {
  db.exec(`ALTER TABLE run_epochs ADD COLUMN extra TEXT`)
}
