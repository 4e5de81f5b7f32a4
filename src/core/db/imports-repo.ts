import { basename } from 'node:path'
import type { Database, Statement } from 'better-sqlite3'
import { AppError } from '../../shared/result'
import type { ImportRequest, ImportSummary, SkippedFile } from '../../shared/types'
import { pidAlive } from '../util/process'
import type { DatasetRow } from './datasets-repo'

export interface ExistingRow {
  id: number
  rel_path: string
  file_size: number
  mtime_ms: number
  status: 'ok' | 'skipped'
  slot: number | null
  class_id: number | null
}

/** One image row as the import writes it, in the column order of its statements. */
export type ImageRow = [
  classId: number | null,
  fileSize: number,
  mtimeMs: number,
  width: number | null,
  height: number | null,
  format: string | null,
  sha256: string | null,
  status: 'ok' | 'skipped',
  error: string | null,
  slot: number | null,
  thumbOffset: number | null,
  thumbLength: number | null,
  datasetId: number,
  relPath: string,
]

/** Why an import cannot write to a dataset: another import holds its lock. */
export function datasetBusy(pid: number | null): string {
  return `This dataset is being imported by another window or process${pid ? ` (process ${pid})` : ''}. Wait for that import to finish, or cancel it there, then import the folder again.`
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

const ROWS_PER_INSERT = 32
const ROW_PLACEHOLDERS = `(${Array(14).fill('?').join(', ')})`

/**
 * The SQL of an import: the dataset's import lock, its classes, its image rows in batches, and
 * the summary. Only the import worker writes through it (datasets/import.ts drives it).
 */
export class ImportsRepo {
  constructor(private readonly db: Database) {}

  byRoot(root: string): DatasetRow | undefined {
    return this.db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as
      DatasetRow | undefined
  }

  /** Removes the row of a dataset just created (its folder turned out to hold another's files). */
  forget(datasetId: number): void {
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId)
  }

  /**
   * Takes the dataset's import lock and returns its row: creates the row for a new folder, or marks
   * an existing one as importing by this process; a new size or channel mode clears every pixel
   * pointer so all images are decoded again into a new store. The row is read again and written in
   * one IMMEDIATE transaction, so of two processes that start importing the same folder at once
   * exactly one gets the lock; the other is refused with a message saying so (instead of a unique
   * key error, or two writers in one pixel store). A lock whose process is gone is taken over.
   */
  begin(
    root: string,
    req: ImportRequest,
    auto: () => { size: number; channels: DatasetRow['channels'] },
  ): { dataset: DatasetRow; geometryChanged: boolean; created: boolean } {
    const byId = (id: number | bigint): DatasetRow =>
      this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow
    return this.db
      .transaction(() => {
        const now = Date.now()
        const existing = this.db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as
          DatasetRow | undefined
        if (!existing) {
          const geo = req.size && req.channels ? { size: req.size, channels: req.channels } : auto()
          const info = this.db
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
          this.db
            .prepare(
              `UPDATE images SET slot = NULL, thumb_offset = NULL, thumb_length = NULL WHERE dataset_id = ?`,
            )
            .run(existing.id)
          this.db
            .prepare(
              `UPDATE datasets SET size = ?, channels = ?, fit = ?, store_generation = store_generation + 1, next_slot = 0 WHERE id = ?`,
            )
            .run(next.size, next.channels, next.fit, existing.id)
        }
        this.db
          .prepare(
            `UPDATE datasets SET status = 'importing', import_pid = ?, last_error = NULL, updated_at = ?, name = COALESCE(?, name) WHERE id = ?`,
          )
          .run(process.pid, now, req.name ?? null, existing.id)
        return { dataset: byId(existing.id), geometryChanged, created: false }
      })
      .immediate()
  }

  ensureClasses(datasetId: number, folders: string[]): Map<string, number> {
    const insert = this.db.prepare(
      'INSERT INTO classes (dataset_id, folder, name) VALUES (?, ?, ?) ON CONFLICT (dataset_id, folder) DO NOTHING',
    )
    this.db.transaction(() => {
      for (const f of folders) insert.run(datasetId, f, f.normalize('NFC'))
    })()
    const rows = this.db
      .prepare('SELECT id, folder FROM classes WHERE dataset_id = ?')
      .all(datasetId) as {
      id: number
      folder: string
    }[]
    return new Map(rows.map((r) => [r.folder, r.id]))
  }

  existingRows(datasetId: number): Map<string, ExistingRow> {
    const map = new Map<string, ExistingRow>()
    const rows = this.db
      .prepare(
        'SELECT id, rel_path, file_size, mtime_ms, status, slot, class_id FROM images WHERE dataset_id = ?',
      )
      .iterate(datasetId) as IterableIterator<ExistingRow>
    for (const row of rows) map.set(row.rel_path, row)
    return map
  }

  /** Drops rows of files that are gone and classes whose folder is gone; returns the images removed. */
  removeMissing(
    datasetId: number,
    existing: Map<string, ExistingRow>,
    seen: Set<string>,
    classFolders: string[],
  ): number {
    let removed = 0
    this.db.transaction(() => {
      const del = this.db.prepare('DELETE FROM images WHERE id = ?')
      for (const [rel, row] of existing) {
        if (seen.has(rel)) continue
        del.run(row.id)
        if (row.status === 'ok') removed++
      }
      this.db
        .prepare(
          `DELETE FROM classes WHERE dataset_id = ? AND id NOT IN (SELECT DISTINCT class_id FROM images WHERE dataset_id = ? AND class_id IS NOT NULL)
         AND folder NOT IN (SELECT value FROM json_each(?))`,
        )
        .run(datasetId, datasetId, JSON.stringify(classFolders))
    })()
    return removed
  }

  finish(summary: ImportSummary): void {
    const stopped = summary.cancelled
    this.db
      .prepare(
        `UPDATE datasets SET status = ?, import_pid = NULL, last_error = ?, last_import = ?, updated_at = ?,
         imported_at = COALESCE(?, imported_at) WHERE id = ?`,
      )
      .run(
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

  /** Images stored so far (status ok), for messages about what an import kept. */
  importedCount(datasetId: number): number {
    return (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok'`)
        .get(datasetId) as { n: number }
    ).n
  }

  /** Releases this process's import lock of a failed import and records why. */
  markFailed(datasetId: number, message: string): void {
    this.db
      .prepare(
        `UPDATE datasets SET status = 'incomplete', import_pid = NULL, last_error = ?, updated_at = ?
         WHERE id = ? AND import_pid = ?`,
      )
      .run(message, Date.now(), datasetId, process.pid)
  }

  /**
   * A function that commits one batch of image rows in its own IMMEDIATE transaction: it checks
   * that this process still holds the dataset's import lock, reads the committed end of the pixel
   * store, lets `place` write the batch's pixels past it and return the rows (slots made absolute),
   * writes the rows and moves the end on by `count` slots. A rollback moves nothing.
   */
  batchCommitter(
    datasetId: number,
    isExisting: (relPath: string) => boolean,
  ): (place: (base: number) => ImageRow[], count: number) => void {
    const insertRows = (n: number): Statement =>
      this.db.prepare(
        `INSERT INTO images (class_id, file_size, mtime_ms, width, height, format, sha256, status, error, slot,
         thumb_offset, thumb_length, dataset_id, rel_path) VALUES ${Array(n).fill(ROW_PLACEHOLDERS).join(', ')}`,
      )
    const insert = insertRows(1)
    const insertMany = insertRows(ROWS_PER_INSERT)
    const update = this.db.prepare(
      `UPDATE images SET class_id = ?, file_size = ?, mtime_ms = ?, width = ?, height = ?, format = ?, sha256 = ?,
         status = ?, error = ?, slot = ?, thumb_offset = ?, thumb_length = ? WHERE dataset_id = ? AND rel_path = ?`,
    )
    const owner = this.db.prepare('SELECT next_slot, status, import_pid FROM datasets WHERE id = ?')
    const setSlot = this.db.prepare(
      'UPDATE datasets SET next_slot = ?, updated_at = ? WHERE id = ?',
    )
    const batch = this.db.transaction((place: (base: number) => ImageRow[], count: number) => {
      const ds = owner.get(datasetId) as
        { next_slot: number; status: string; import_pid: number | null } | undefined
      // Whoever holds the dataset's import lock is the only writer (see begin).
      if (ds?.status !== 'importing' || ds.import_pid !== process.pid)
        throw new AppError('conflict', datasetBusy(ds?.import_pid ?? null))
      const base = ds.next_slot
      const placed = place(base)
      // New rows go in several at a time (one statement per ROWS_PER_INSERT rows costs far less
      // than one each); rows of files seen before are updated one by one.
      const fresh: ImageRow[] = []
      for (const row of placed)
        if (isExisting(row[13])) update.run(...row)
        else fresh.push(row)
      let i = 0
      for (; i + ROWS_PER_INSERT <= fresh.length; i += ROWS_PER_INSERT)
        insertMany.run(fresh.slice(i, i + ROWS_PER_INSERT).flat())
      for (; i < fresh.length; i++) insert.run(...fresh[i])
      setSlot.run(base + count, Date.now(), datasetId)
    })
    // IMMEDIATE: the write lock is taken before the committed end is read, so no other
    // connection can move it until this batch commits or rolls back.
    return (place, count) => batch.immediate(place, count)
  }

  summary(
    datasetId: number,
    counts: Pick<
      ImportSummary,
      'added' | 'changed' | 'removed' | 'unchanged' | 'ignored' | 'cancelled' | 'seconds'
    >,
  ): ImportSummary {
    const ds = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(datasetId) as DatasetRow
    const classes = this.db
      .prepare(
        `SELECT c.name, COUNT(i.id) AS count FROM classes c LEFT JOIN images i ON i.class_id = c.id AND i.status = 'ok'
         WHERE c.dataset_id = ? GROUP BY c.id ORDER BY c.name COLLATE NOCASE, c.id`,
      )
      .all(datasetId) as { name: string; count: number }[]
    const skipped = this.db
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
}
