import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { AppError } from '../../shared/result'
import { DATA_FOLDERS, folderInUse } from '../util/paths'
import { migrations } from './migrations'

export type { Database }

export const SCHEMA_VERSION = migrations.length

/**
 * Opens (creating if needed) the app database, in WAL mode, and brings it to the current schema.
 * A database written by a newer Synthfold is refused rather than half-understood.
 */
export function openDatabase(file: string, steps = migrations): Database {
  let db: Database
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
    db = new BetterSqlite3(file)
  } catch (err) {
    throw cannotOpen(file, err)
  }
  try {
    // before anything that writes (WAL mode writes the header), so a refused file stays as it was
    if (file !== ':memory:') refuseLostTables(db, file)
    enterWal(db)
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 10000')
    migrate(db, steps)
    return db
  } catch (err) {
    db.close()
    throw file !== ':memory:' && isOpenFailure(err) ? cannotOpen(file, err) : err
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

/**
 * Switching a new database to WAL needs it to itself for a moment; SQLite reports "database is
 * locked" at once, without waiting, when another process is switching it too, so try again.
 */
function enterWal(db: Database): void {
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || attempt >= 100) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + Math.random() * 80)
    }
  }
}

/** SQLite's ways of saying it cannot open or write the file (its messages name no path). */
const isOpenFailure = (err: unknown): boolean =>
  /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR)/.test(String((err as { code?: unknown })?.code))

/**
 * Says which path is in the way and why: SQLite's own "unable to open database file" names
 * neither, and a read-only data folder or a file where a folder should be breaks every command.
 */
function cannotOpen(file: string, err: unknown): AppError {
  const fix = 'Fix that, or set SYNTHFOLD_HOME to a folder Synthfold can write.'
  return new AppError('io', `Cannot open the database ${file}: ${whyNot(file, err)}. ${fix}`)
}

function whyNot(file: string, err: unknown): string {
  const code = (e: unknown): string => String((e as NodeJS.ErrnoException)?.code ?? e)
  const dir = dirname(file)
  // The nearest part of the path that exists: a file there, or a folder that cannot be written.
  let at = dir
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  if (existsSync(at) && !statSync(at).isDirectory())
    return `${at} is a file, not a folder (ENOTDIR)`
  if (existsSync(file) && statSync(file).isDirectory()) return 'it is a folder, not a file'
  try {
    accessSync(at, constants.W_OK | constants.X_OK)
  } catch (e) {
    return at === dir
      ? `the folder ${dir} is not writable (${code(e)})`
      : `the folder ${dir} cannot be made: ${at} is not writable (${code(e)})`
  }
  if (existsSync(file)) {
    try {
      accessSync(file, constants.R_OK | constants.W_OK)
    } catch (e) {
      return `the file is not readable and writable (${code(e)})`
    }
  }
  const message = err instanceof Error ? err.message : String(err)
  const sqlite = (err as { code?: unknown })?.code
  return typeof sqlite === 'string' ? `${message} (${sqlite})` : message
}

export function migrate(db: Database, steps = migrations): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > steps.length) {
    throw new AppError(
      'unsupported',
      `This database was written by a newer version of Synthfold (schema ${current}, this app knows ${steps.length}). Update Synthfold or set SYNTHFOLD_HOME to another folder.`,
    )
  }
  // Each step reads the version again under the write lock: two processes opening a new
  // database at once would otherwise both run the first step (and one fail: table exists).
  const step = db.transaction((): boolean => {
    const v = db.pragma('user_version', { simple: true }) as number
    if (v >= steps.length) return false
    steps[v](db)
    db.pragma(`user_version = ${v + 1}`)
    return true
  })
  for (let more = current < steps.length; more;) more = step.immediate()
}
