import { realpath, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Database } from 'better-sqlite3'
import type {
  ChannelMode,
  FitMode,
  ImportSummary,
  JobPhase,
  SkippedFile,
} from '../../../shared/types'
import { AppError } from '../../../shared/result'
import type { DatasetRow } from '../db/datasets-repo'
import { datasetDir } from '../paths'
import { pidAlive } from '../util/process'
import { channelCount, type Decoded, type Geometry } from './decode'
import { decodeFile } from './decode-file'
import { DecodePool } from './decode-pool'
import { chooseGeometry } from './geometry'
import { scanTree, type Candidate } from './scan'
import { PixelStore, ThumbPack, removeStoreFiles } from './store'

export interface ImportRequest {
  path: string
  name?: string
  size?: number
  channels?: ChannelMode
  fit?: FitMode
}

export interface ImportHooks {
  progress(phase: JobPhase, done: number, total: number): void
  shouldStop(): boolean
  onDataset?(datasetId: number): void
}

interface ExistingRow {
  id: number
  rel_path: string
  file_size: number
  mtime_ms: number
  status: 'ok' | 'skipped'
  slot: number | null
  class_id: number | null
}

interface Finished {
  cand: Candidate
  classId: number | null
  decoded: Decoded | { ok: false; reason: string }
  sha256: string | null
}

const CONCURRENCY = 4
const FLUSH_EVERY = 256
/** From this many files on, decoding runs on one thread per core. */
const POOL_THRESHOLD = 1000
const BATCH = 128

/** Checks a folder before any job starts, so a bad path is refused at once with a clear message. */
export async function resolveImportRoot(path: string): Promise<string> {
  let real: string
  try {
    real = await realpath(path)
  } catch {
    throw new AppError('not_found', `Folder not found: ${path}`)
  }
  const st = await stat(real)
  if (!st.isDirectory())
    throw new AppError(
      'invalid_argument',
      `Not a folder: ${path}. Choose the folder that holds one subfolder per class.`,
    )
  return real
}

/**
 * Imports (or re-imports) a labeled folder tree into the dataset for that folder. Unchanged files
 * are not decoded again; changed files get new pixel records; files gone from disk are dropped.
 * Writes are committed in batches, so stopping at any point leaves a consistent database.
 */
export async function runImport(
  db: Database,
  home: string,
  req: ImportRequest,
  hooks: ImportHooks,
): Promise<ImportSummary> {
  const started = Date.now()
  const root = await resolveImportRoot(req.path)
  let ds = db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as DatasetRow | undefined
  if (
    ds?.status === 'importing' &&
    ds.import_pid !== null &&
    ds.import_pid !== process.pid &&
    pidAlive(ds.import_pid)
  ) {
    throw new AppError(
      'conflict',
      `This folder is already being imported by another Synthfold process (pid ${ds.import_pid}).`,
    )
  }

  hooks.progress('scanning', 0, 0)
  const scan = scanTree(root, (n) => hooks.progress('scanning', n, 0), hooks.shouldStop)
  const inClass = scan.candidates.filter((c) => c.classFolder !== null)

  const now = Date.now()
  let geometryChanged = false
  if (!ds) {
    const auto =
      req.size && req.channels ? null : await chooseGeometry(inClass.map((c) => c.absPath))
    const info = db
      .prepare(
        `INSERT INTO datasets (name, root, size, channels, fit, status, import_pid, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'importing', ?, ?, ?)`,
      )
      .run(
        req.name ?? (basename(root) || root),
        root,
        req.size ?? auto!.size,
        req.channels ?? auto!.channels,
        req.fit ?? 'cover',
        process.pid,
        now,
        now,
      )
    ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(info.lastInsertRowid) as DatasetRow
  } else {
    const next = {
      size: req.size ?? ds.size,
      channels: req.channels ?? ds.channels,
      fit: req.fit ?? ds.fit,
    }
    geometryChanged = next.size !== ds.size || next.channels !== ds.channels || next.fit !== ds.fit
    db.transaction(() => {
      if (geometryChanged) {
        // A new resolution or mode needs every image decoded again into a new store.
        db.prepare(
          `UPDATE images SET slot = NULL, thumb_offset = NULL, thumb_length = NULL WHERE dataset_id = ?`,
        ).run(ds!.id)
        db.prepare(
          `UPDATE datasets SET size = ?, channels = ?, fit = ?, store_generation = store_generation + 1, next_slot = 0 WHERE id = ?`,
        ).run(next.size, next.channels, next.fit, ds!.id)
      }
      db.prepare(
        `UPDATE datasets SET status = 'importing', import_pid = ?, last_error = NULL, updated_at = ?, name = COALESCE(?, name) WHERE id = ?`,
      ).run(process.pid, now, req.name ?? null, ds!.id)
    })()
    ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(ds.id) as DatasetRow
  }
  const dataset = ds
  hooks.onDataset?.(dataset.id)

  const geo: Geometry = { size: dataset.size, channels: dataset.channels, fit: dataset.fit }
  const dir = datasetDir(home, dataset.id)
  const store = new PixelStore(
    PixelStore.fileFor(dir, dataset.store_generation, geo.size, channelCount(geo.channels)),
    geo.size * geo.size * channelCount(geo.channels),
  )
  const thumbs = new ThumbPack(ThumbPack.fileFor(dir, dataset.store_generation))
  if (geometryChanged) removeStoreFiles(dir, [store.file, thumbs.file])

  const classIds = ensureClasses(db, dataset.id, scan.classFolders)
  const existing = new Map<string, ExistingRow>()
  for (const row of db
    .prepare(
      'SELECT id, rel_path, file_size, mtime_ms, status, slot, class_id FROM images WHERE dataset_id = ?',
    )
    .iterate(dataset.id) as IterableIterator<ExistingRow>) {
    existing.set(row.rel_path, row)
  }

  const seen = new Set<string>()
  const work: Candidate[] = []
  let unchanged = 0
  for (const c of scan.candidates) {
    seen.add(c.relPath)
    const old = existing.get(c.relPath)
    const classId = c.classFolder === null ? null : classIds.get(c.classFolder)!
    const same =
      old &&
      old.file_size === c.size &&
      old.mtime_ms === c.mtimeMs &&
      old.class_id === classId &&
      (old.status === 'skipped' || old.slot !== null)
    if (same) unchanged++
    else work.push(c)
  }
  for (const p of scan.problems) seen.add(p.relPath)

  const COLUMNS =
    'dataset_id, class_id, rel_path, file_size, mtime_ms, width, height, format, sha256, status, error, slot, thumb_offset, thumb_length'
  const insert = db.prepare(
    `INSERT INTO images (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const update = db.prepare(
    `UPDATE images SET class_id = ?, file_size = ?, mtime_ms = ?, width = ?, height = ?, format = ?, sha256 = ?,
       status = ?, error = ?, slot = ?, thumb_offset = ?, thumb_length = ? WHERE dataset_id = ? AND rel_path = ?`,
  )
  let nextSlot = dataset.next_slot
  let added = 0
  let changed = 0
  type Row = [
    number,
    number | null,
    string,
    number,
    number,
    number | null,
    number | null,
    string | null,
    string | null,
    'ok' | 'skipped',
    string | null,
    number | null,
    number | null,
    number | null,
  ]
  const pending: Row[] = []
  let pixelBatch: Uint8Array[] = []
  let batchStart = nextSlot
  const flush = db.transaction(() => {
    // Pixels first, then the rows that point at them: a crash in between leaves only unused bytes.
    store.writeMany(batchStart, pixelBatch)
    pixelBatch = []
    batchStart = nextSlot
    for (const row of pending) {
      if (existing.has(row[2])) update.run(row[1], ...row.slice(3), row[0], row[2])
      else insert.run(...row)
    }
    db.prepare('UPDATE datasets SET next_slot = ?, updated_at = ? WHERE id = ?').run(
      nextSlot,
      Date.now(),
      dataset.id,
    )
    pending.length = 0
  })

  const record = (f: Finished): void => {
    const old = existing.get(f.cand.relPath)
    const { cand } = f
    const d = f.decoded
    if (d.ok) {
      if (old?.status === 'ok') changed++
      else added++
      const slot = nextSlot++
      pixelBatch.push(d.pixels)
      const t = d.thumb ? thumbs.append(d.thumb) : null
      pending.push(row(cand, f.classId, f.sha256, { d, slot, thumb: t }))
    } else {
      pending.push(row(cand, f.classId, f.sha256, { reason: d.reason }))
    }
  }
  const row = (
    cand: Pick<Candidate, 'relPath' | 'size' | 'mtimeMs'>,
    classId: number | null,
    sha256: string | null,
    r:
      | {
          d: Extract<Decoded, { ok: true }>
          slot: number
          thumb: { offset: number; length: number } | null
        }
      | { reason: string },
  ): Row =>
    'reason' in r
      ? [
          dataset.id,
          classId,
          cand.relPath,
          cand.size,
          cand.mtimeMs,
          null,
          null,
          null,
          sha256,
          'skipped',
          r.reason,
          null,
          null,
          null,
        ]
      : [
          dataset.id,
          classId,
          cand.relPath,
          cand.size,
          cand.mtimeMs,
          r.d.width,
          r.d.height,
          r.d.format,
          sha256,
          'ok',
          null,
          r.slot,
          r.thumb?.offset ?? null,
          r.thumb?.length ?? null,
        ]

  // Folders or links that could not be read are reported alongside the files.
  for (const p of scan.problems) {
    pending.push(row({ relPath: p.relPath, size: 0, mtimeMs: 0 }, null, null, { reason: p.reason }))
  }

  let done = 0
  let stopped = false
  // Images outside any class folder are reported without being decoded.
  const toDecode: Candidate[] = []
  for (const cand of work) {
    if (cand.classFolder === null) {
      record({
        cand,
        classId: null,
        sha256: null,
        decoded: {
          ok: false,
          reason: 'not inside a class folder (put images in one subfolder per class)',
        },
      })
      done++
    } else toDecode.push(cand)
  }
  const classOf = (c: Candidate): number => classIds.get(c.classFolder!)!
  const afterEach = (n: number): void => {
    done += n
    if (pending.length >= FLUSH_EVERY) {
      flush()
      hooks.progress('decoding', done, work.length)
    }
  }
  hooks.progress('decoding', done, work.length)
  const pool = toDecode.length >= POOL_THRESHOLD ? new DecodePool() : null
  try {
    if (pool) {
      const batches: Candidate[][] = []
      for (let i = 0; i < toDecode.length; i += BATCH) batches.push(toDecode.slice(i, i + BATCH))
      const inFlight = new Set<Promise<void>>()
      let next = 0
      while ((!stopped && next < batches.length) || inFlight.size) {
        if (hooks.shouldStop()) stopped = true
        while (!stopped && next < batches.length && inFlight.size < pool.size * 2) {
          const batch = batches[next++]
          const p: Promise<void> = pool
            .decode(
              batch.map((c) => c.absPath),
              geo,
            )
            .then((results) => {
              results.forEach((r, i) =>
                record({ cand: batch[i], classId: classOf(batch[i]), ...r }),
              )
              afterEach(batch.length)
            })
          inFlight.add(p)
          void p.finally(() => inFlight.delete(p)).catch(() => undefined)
        }
        if (inFlight.size) await Promise.race(inFlight)
      }
    } else {
      let index = 0
      const lane = async (): Promise<void> => {
        while (index < toDecode.length) {
          if (hooks.shouldStop()) {
            stopped = true
            return
          }
          const cand = toDecode[index++]
          record({ cand, classId: classOf(cand), ...(await decodeFile(cand.absPath, geo)) })
          afterEach(1)
        }
      }
      await Promise.all(Array.from({ length: CONCURRENCY }, lane))
    }
    flush()
    hooks.progress('decoding', done, work.length)
  } finally {
    await pool?.close()
    store.close()
    thumbs.close()
  }

  let removed = 0
  stopped ||= hooks.shouldStop()
  hooks.progress('finishing', done, work.length)
  db.transaction(() => {
    if (!stopped) {
      const del = db.prepare('DELETE FROM images WHERE id = ?')
      for (const [rel, row] of existing) {
        if (seen.has(rel)) continue
        del.run(row.id)
        if (row.status === 'ok') removed++
      }
      db.prepare(
        `DELETE FROM classes WHERE dataset_id = ? AND id NOT IN (SELECT DISTINCT class_id FROM images WHERE dataset_id = ? AND class_id IS NOT NULL)
         AND folder NOT IN (SELECT value FROM json_each(?))`,
      ).run(dataset.id, dataset.id, JSON.stringify(scan.classFolders))
    }
  })()

  const summary = buildSummary(db, dataset.id, {
    added,
    changed,
    removed,
    unchanged,
    ignored: scan.ignored,
    cancelled: stopped,
    seconds: (Date.now() - started) / 1000,
  })
  db.prepare(
    `UPDATE datasets SET status = ?, import_pid = NULL, last_error = ?, last_import = ?, updated_at = ?, imported_at = COALESCE(?, imported_at) WHERE id = ?`,
  ).run(
    stopped ? 'incomplete' : 'ready',
    stopped
      ? 'The import was cancelled before it finished. Import the folder again to continue where it stopped.'
      : null,
    JSON.stringify({ ...summary, skipped: undefined, skippedCount: summary.skipped.length }),
    Date.now(),
    stopped ? null : Date.now(),
    dataset.id,
  )
  return summary
}

function ensureClasses(db: Database, datasetId: number, folders: string[]): Map<string, number> {
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
