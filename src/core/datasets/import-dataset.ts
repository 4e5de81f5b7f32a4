import { basename } from 'node:path'
import type { Database } from 'better-sqlite3'
import type { ImportSummary, SkippedFile } from '../../shared/types'
import type { DatasetRow } from '../db/datasets-repo'
import type { ImportRequest } from '../../shared/types'
import { AppError } from '../../shared/result'
import { pidAlive } from '../util/process'
import { datasetBusy, type ExistingRow } from './import-writer'

/**
 * Takes the dataset's import lock and returns its row: creates the row for a new folder, or marks
 * an existing one as importing by this process; a new size or channel mode clears every pixel
 * pointer so all images are decoded again into a new store. The row is read again and written in
 * one IMMEDIATE transaction, so of two processes that start importing the same folder at once
 * exactly one gets the lock; the other is refused with a message saying so (instead of a unique
 * key error, or two writers in one pixel store). A lock whose process is gone is taken over.
 */
export function beginDataset(
  db: Database,
  root: string,
  req: ImportRequest,
  auto: () => { size: number; channels: DatasetRow['channels'] },
): { dataset: DatasetRow; geometryChanged: boolean; created: boolean } {
  const byId = (id: number | bigint): DatasetRow =>
    db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow
  return db
    .transaction(() => {
      const now = Date.now()
      const existing = db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as
        DatasetRow | undefined
      if (!existing) {
        const geo = req.size && req.channels ? { size: req.size, channels: req.channels } : auto()
        const info = db
          .prepare(
            `INSERT INTO datasets (name, root, size, channels, fit, status, import_pid, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'importing', ?, ?, ?)`,
          )
          .run(
            req.name ?? (basename(root) || root),
            root,
            req.size ?? geo.size,
            req.channels ?? geo.channels,
            req.fit ?? 'cover',
            process.pid,
            now,
            now,
          )
        return { dataset: byId(info.lastInsertRowid), geometryChanged: false, created: true }
      }
      if (importedElsewhere(existing))
        throw new AppError('conflict', datasetBusy(existing.import_pid))
      const next = {
        size: req.size ?? existing.size,
        channels: req.channels ?? existing.channels,
        fit: req.fit ?? existing.fit,
      }
      const geometryChanged =
        next.size !== existing.size ||
        next.channels !== existing.channels ||
        next.fit !== existing.fit
      if (geometryChanged) {
        db.prepare(
          `UPDATE images SET slot = NULL, thumb_offset = NULL, thumb_length = NULL WHERE dataset_id = ?`,
        ).run(existing.id)
        db.prepare(
          `UPDATE datasets SET size = ?, channels = ?, fit = ?, store_generation = store_generation + 1, next_slot = 0 WHERE id = ?`,
        ).run(next.size, next.channels, next.fit, existing.id)
      }
      db.prepare(
        `UPDATE datasets SET status = 'importing', import_pid = ?, last_error = NULL, updated_at = ?, name = COALESCE(?, name) WHERE id = ?`,
      ).run(process.pid, now, req.name ?? null, existing.id)
      return { dataset: byId(existing.id), geometryChanged, created: false }
    })
    .immediate()
}

/** True when another live process holds the dataset's import lock. */
export function importedElsewhere(row: DatasetRow): boolean {
  return (
    row.status === 'importing' &&
    row.import_pid !== null &&
    row.import_pid !== process.pid &&
    pidAlive(row.import_pid)
  )
}

export function ensureClasses(
  db: Database,
  datasetId: number,
  folders: string[],
): Map<string, number> {
  const insert = db.prepare(
    'INSERT INTO classes (dataset_id, folder, name) VALUES (?, ?, ?) ON CONFLICT (dataset_id, folder) DO NOTHING',
  )
  db.transaction(() => {
    for (const f of folders) insert.run(datasetId, f, f.normalize('NFC'))
  })()
  const rows = db.prepare('SELECT id, folder FROM classes WHERE dataset_id = ?').all(datasetId) as {
    id: number
    folder: string
  }[]
  return new Map(rows.map((r) => [r.folder, r.id]))
}

export function existingRows(db: Database, datasetId: number): Map<string, ExistingRow> {
  const map = new Map<string, ExistingRow>()
  const rows = db
    .prepare(
      'SELECT id, rel_path, file_size, mtime_ms, status, slot, class_id FROM images WHERE dataset_id = ?',
    )
    .iterate(datasetId) as IterableIterator<ExistingRow>
  for (const row of rows) map.set(row.rel_path, row)
  return map
}

/** Drops rows of files that are gone and classes whose folder is gone; returns the images removed. */
export function removeMissing(
  db: Database,
  datasetId: number,
  existing: Map<string, ExistingRow>,
  seen: Set<string>,
  classFolders: string[],
): number {
  let removed = 0
  db.transaction(() => {
    const del = db.prepare('DELETE FROM images WHERE id = ?')
    for (const [rel, row] of existing) {
      if (seen.has(rel)) continue
      del.run(row.id)
      if (row.status === 'ok') removed++
    }
    db.prepare(
      `DELETE FROM classes WHERE dataset_id = ? AND id NOT IN (SELECT DISTINCT class_id FROM images WHERE dataset_id = ? AND class_id IS NOT NULL)
       AND folder NOT IN (SELECT value FROM json_each(?))`,
    ).run(datasetId, datasetId, JSON.stringify(classFolders))
  })()
  return removed
}

export function finishDataset(db: Database, summary: ImportSummary): void {
  const stopped = summary.cancelled
  db.prepare(
    `UPDATE datasets SET status = ?, import_pid = NULL, last_error = ?, last_import = ?, updated_at = ?,
       imported_at = COALESCE(?, imported_at) WHERE id = ?`,
  ).run(
    stopped ? 'incomplete' : 'ready',
    stopped
      ? 'The import was cancelled before it finished. Import the folder again to continue where it stopped.'
      : null,
    JSON.stringify({ ...summary, skipped: undefined, skippedCount: summary.skipped.length }),
    Date.now(),
    stopped ? null : Date.now(),
    summary.datasetId,
  )
}

/**
 * Releases the import lock of an import that failed and records why, so the dataset shows as
 * incomplete with the cause (a full disk says so) rather than, after the next start, as stopped
 * by a crash. Returns the error to report: a full disk or an unwritable data folder becomes a
 * message that says what to do. A lost lock (conflict) leaves the row to its new owner.
 */
export function failImport(db: Database, home: string, datasetId: number, err: unknown): unknown {
  if (err instanceof AppError && err.code === 'conflict') return err
  const code = String((err as { code?: unknown })?.code ?? '')
  const detail = err instanceof Error ? err.message : String(err)
  let kept = 0
  try {
    kept = (
      db
        .prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok'`)
        .get(datasetId) as { n: number }
    ).n
  } catch {
    // the count only makes the message more precise
  }
  const again = 'then import the folder again to continue where it stopped.'
  let reported: unknown = err
  let message: string
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') {
    message = `The disk is full: the import stopped after ${kept} images (they are kept). Free some space on the disk that holds ${home}, ${again}`
    reported = new AppError('io', message)
  } else if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    message = `Synthfold could not write to its data folder ${home} (${code}): the import stopped after ${kept} images. Make the folder writable, ${again}`
    reported = new AppError('io', message)
  } else {
    message = `The import stopped after ${kept} images: ${detail}. Import the folder again to continue where it stopped.`
  }
  try {
    db.prepare(
      `UPDATE datasets SET status = 'incomplete', import_pid = NULL, last_error = ?, updated_at = ?
       WHERE id = ? AND import_pid = ?`,
    ).run(message, Date.now(), datasetId, process.pid)
  } catch {
    // Nothing more can be written (the disk may be that full): the next start marks it interrupted.
  }
  return reported
}

export function buildSummary(
  db: Database,
  datasetId: number,
  counts: Pick<
    ImportSummary,
    'added' | 'changed' | 'removed' | 'unchanged' | 'ignored' | 'cancelled' | 'seconds'
  >,
): ImportSummary {
  const ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(datasetId) as DatasetRow
  const classes = db
    .prepare(
      `SELECT c.name, COUNT(i.id) AS count FROM classes c LEFT JOIN images i ON i.class_id = c.id AND i.status = 'ok'
       WHERE c.dataset_id = ? GROUP BY c.id ORDER BY c.name COLLATE NOCASE, c.id`,
    )
    .all(datasetId) as { name: string; count: number }[]
  const skipped = db
    .prepare(
      `SELECT rel_path AS path, error AS reason FROM images WHERE dataset_id = ? AND status = 'skipped' ORDER BY rel_path`,
    )
    .all(datasetId) as SkippedFile[]
  return {
    datasetId,
    name: ds.name,
    root: ds.root,
    size: ds.size,
    channels: ds.channels,
    classes,
    imported: classes.reduce((a, c) => a + c.count, 0),
    skipped,
    ...counts,
  }
}
