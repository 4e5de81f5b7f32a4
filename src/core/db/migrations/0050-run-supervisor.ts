import type { Database } from 'better-sqlite3'

/**
 * The pid of the process that supervises a run (the app, the web host or the CLI) beside its
 * training process's: a run whose supervisor is gone shows as interrupted even while its
 * orphaned training process is still winding down.
 */
export function migrate0050(db: Database): void {
  db.exec('ALTER TABLE runs ADD COLUMN supervisor_pid INTEGER')
}
