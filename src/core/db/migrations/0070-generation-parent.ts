import type { Database } from 'better-sqlite3'

/**
 * The generation a remedy started from (a class that fell short, generated again at a lower
 * temperature or with a relaxed filter): its page lists the remedies, and the new generation's
 * duplicate filter also compares with the samples the first one accepted. NULL otherwise, and
 * when the first one is deleted.
 */
export function migrate0070(db: Database): void {
  db.exec(
    'ALTER TABLE generations ADD COLUMN parent_id INTEGER REFERENCES generations(id) ON DELETE SET NULL',
  )
}
