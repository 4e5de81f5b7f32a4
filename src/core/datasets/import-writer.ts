import type { Database, Statement } from 'better-sqlite3'
import { AppError } from '../../shared/result'
import type { FileOutcome } from './decode-file'
import type { PixelStore, ThumbPack } from './store'

export interface ExistingRow {
  id: number
  rel_path: string
  file_size: number
  mtime_ms: number
  status: 'ok' | 'skipped'
  slot: number | null
  class_id: number | null
}

type Row = [
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

const FLUSH_EVERY = 512
const ROWS_PER_INSERT = 32
const ROW_PLACEHOLDERS = `(${Array(14).fill('?').join(', ')})`

/**
 * Turns decoder outcomes into pixel records and image rows, committed in batches. A batch's slots
 * are chosen inside its own write transaction, from the committed end the database holds then:
 * its pixels and previews go past that end, its rows point at them, and the end moves on only
 * when the transaction commits. A crash or a rollback (a unique-key clash, a full disk) leaves
 * only unreferenced bytes past the end, and no other writer's committed slot is ever overwritten.
 */
export class ImportWriter {
  added = 0
  changed = 0
  unchanged = 0
  private pixels: Uint8Array[] = []
  /** Per pending row: its preview, placed at commit time like its pixels. */
  private previews: (Uint8Array | null)[] = []
  private rows: Row[] = []
  private readonly insert: Statement
  private readonly insertMany: Statement
  private readonly update: Statement
  private readonly commit: () => void

  constructor(
    private readonly db: Database,
    private readonly datasetId: number,
    private readonly store: PixelStore,
    private readonly thumbs: ThumbPack,
    private readonly existing: Map<string, ExistingRow>,
  ) {
    const insertRows = (n: number): Statement =>
      db.prepare(
        `INSERT INTO images (class_id, file_size, mtime_ms, width, height, format, sha256, status, error, slot,
         thumb_offset, thumb_length, dataset_id, rel_path) VALUES ${Array(n).fill(ROW_PLACEHOLDERS).join(', ')}`,
      )
    this.insert = insertRows(1)
    this.insertMany = insertRows(ROWS_PER_INSERT)
    this.update = db.prepare(
      `UPDATE images SET class_id = ?, file_size = ?, mtime_ms = ?, width = ?, height = ?, format = ?, sha256 = ?,
         status = ?, error = ?, slot = ?, thumb_offset = ?, thumb_length = ? WHERE dataset_id = ? AND rel_path = ?`,
    )
    const owner = db.prepare('SELECT next_slot, status, import_pid FROM datasets WHERE id = ?')
    const setSlot = db.prepare('UPDATE datasets SET next_slot = ?, updated_at = ? WHERE id = ?')
    const batch = db.transaction(() => {
      const ds = owner.get(this.datasetId) as
        { next_slot: number; status: string; import_pid: number | null } | undefined
      // Whoever holds the dataset's import lock is the only writer (see beginDataset).
      if (ds?.status !== 'importing' || ds.import_pid !== process.pid)
        throw new AppError('conflict', datasetBusy(ds?.import_pid ?? null))
      const base = ds.next_slot
      this.store.writeMany(base, this.pixels)
      const thumbed = this.previews.flatMap((p, i) => (p ? [i] : []))
      const places = this.thumbs.appendAll(thumbed.map((i) => this.previews[i]!))
      const placed = this.rows.map((row): Row => {
        const r: Row = [...row]
        if (r[9] !== null) r[9] += base
        return r
      })
      thumbed.forEach((i, k) => {
        placed[i][10] = places[k].offset
        placed[i][11] = places[k].length
      })
      // New rows go in several at a time (one statement per ROWS_PER_INSERT rows costs far less
      // than one each); rows of files seen before are updated one by one.
      const fresh: Row[] = []
      for (const row of placed)
        if (this.existing.has(row[13])) this.update.run(...row)
        else fresh.push(row)
      let i = 0
      for (; i + ROWS_PER_INSERT <= fresh.length; i += ROWS_PER_INSERT)
        this.insertMany.run(fresh.slice(i, i + ROWS_PER_INSERT).flat())
      for (; i < fresh.length; i++) this.insert.run(...fresh[i])
      setSlot.run(base + this.pixels.length, Date.now(), this.datasetId)
    })
    // IMMEDIATE: the write lock is taken before the committed end is read, so no other
    // connection can move it until this batch commits or rolls back.
    this.commit = () => {
      batch.immediate()
      this.pixels = []
      this.previews = []
      this.rows = []
    }
  }

  /** Records one file's outcome; returns nothing, flushes by itself every few hundred files. */
  record(relPath: string, classId: number | null, outcome: FileOutcome): void {
    if (outcome.kind === 'unchanged') {
      this.unchanged++
      return
    }
    const { decoded: d, size, mtimeMs, sha256 } = outcome
    if (!d.ok) {
      this.skip(relPath, classId, d.reason, size, mtimeMs, sha256)
      return
    }
    if (this.existing.get(relPath)?.status === 'ok') this.changed++
    else this.added++
    // The slot is relative to the batch until the commit knows where the batch starts.
    const slot = this.pixels.length
    this.pixels.push(d.pixels)
    this.push(
      [
        classId,
        size,
        mtimeMs,
        d.width,
        d.height,
        d.format,
        sha256,
        'ok',
        null,
        slot,
        null,
        null,
        this.datasetId,
        relPath,
      ],
      d.thumb,
    )
  }

  skip(
    relPath: string,
    classId: number | null,
    reason: string,
    size = 0,
    mtimeMs = 0,
    sha256: string | null = null,
  ): void {
    this.push([
      classId,
      size,
      mtimeMs,
      null,
      null,
      null,
      sha256,
      'skipped',
      reason,
      null,
      null,
      null,
      this.datasetId,
      relPath,
    ])
  }

  get pendingRows(): number {
    return this.rows.length
  }

  flush(): void {
    if (this.rows.length || this.pixels.length) this.commit()
  }

  private push(row: Row, preview: Uint8Array | null = null): void {
    this.rows.push(row)
    this.previews.push(preview)
    if (this.rows.length >= FLUSH_EVERY) this.flush()
  }
}
