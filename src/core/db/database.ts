import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { AppError } from '../../shared/result'
import { migrations } from './migrations'

export type { Database }

export const SCHEMA_VERSION = migrations.length

/**
 * Opens (creating if needed) the app database, in WAL mode, and brings it to the current schema.
 * A database written by a newer Synthfold is refused rather than half-understood.
 */
export function openDatabase(file: string, steps = migrations): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new BetterSqlite3(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 10000')
    migrate(db, steps)
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

export function migrate(db: Database, steps = migrations): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > steps.length) {
    throw new AppError(
      'unsupported',
      `This database was written by a newer version of Synthfold (schema ${current}, this app knows ${steps.length}). Update Synthfold or set SYNTHFOLD_HOME to another folder.`,
    )
  }
  for (let v = current; v < steps.length; v++) {
    db.transaction(() => {
      steps[v](db)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
}
