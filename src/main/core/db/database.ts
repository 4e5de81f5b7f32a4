import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { AppError } from '../../../shared/result'
import { DATA_FOLDERS, folderInUse } from '../paths'
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
    // before anything that writes (WAL mode writes the header), so a refused file stays as it was
    if (file !== ':memory:') refuseLostTables(db, file)
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

/**
 * A database with no tables beside folders of datasets, runs or generations lost its contents (a
 * 0-byte file after a crash or a bad copy): starting an empty library there would hand out ids
 * whose folders hold the old records' files, so it is refused and left as it is.
 */
function refuseLostTables(db: Database, file: string): void {
  const tables = db
    .prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'`)
    .get() as {
    n: number
  }
  if (tables.n > 0) return
  const home = dirname(file)
  const used = DATA_FOLDERS.filter((f) => folderInUse(join(home, f)))
  if (!used.length) return
  throw new AppError(
    'unsupported',
    `The database ${file} has lost its tables (it is empty), but ${home} still holds ${used.map((f) => `${f}/`).join(', ')} of a library. Restore the database from a backup, or move those folders away to start a new library; nothing was changed.`,
  )
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
