import type { Database } from 'better-sqlite3'

/**
 * A finished run's per-class forecast of what a default generation would give (JSON,
 * RunForecast; NULL for runs that have none: still running, cancelled, or made before).
 */
export function migrate0080(db: Database): void {
  db.exec('ALTER TABLE runs ADD COLUMN forecast TEXT')
}
