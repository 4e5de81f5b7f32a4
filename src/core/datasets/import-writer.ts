import type { Database, Statement } from 'better-sqlite3'
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

const FLUSH_EVERY = 512
const ROWS_PER_INSERT = 32
const ROW_PLACEHOLDERS = `(${Array(14).fill('?').join(', ')})`

/**
 * Turns decoder outcomes into pixel records and image rows, committed in batches: pixels are
 * written before the rows that point at them, so a crash between the two leaves only unused bytes.
 */
export class ImportWriter {
  added = 0
  changed = 0
  unchanged = 0
  private nextSlot: number
  private batchStart: number
  private pixels: Uint8Array[] = []
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
    nextSlot: number,
  ) {
    this.nextSlot = this.batchStart = nextSlot
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
    const setSlot = db.prepare('UPDATE datasets SET next_slot = ?, updated_at = ? WHERE id = ?')
    this.commit = db.transaction(() => {
      this.store.writeMany(this.batchStart, this.pixels)
      // New rows go in several at a time (one statement per ROWS_PER_INSERT rows costs far less
      // than one each); rows of files seen before are updated one by one.
      const fresh: Row[] = []
      for (const row of this.rows)
        if (this.existing.has(row[13])) this.update.run(...row)
        else fresh.push(row)
      let i = 0
      for (; i + ROWS_PER_INSERT <= fresh.length; i += ROWS_PER_INSERT)
        this.insertMany.run(fresh.slice(i, i + ROWS_PER_INSERT).flat())
      for (; i < fresh.length; i++) this.insert.run(...fresh[i])
      setSlot.run(this.nextSlot, Date.now(), this.datasetId)
      this.pixels = []
      this.rows = []
      this.batchStart = this.nextSlot
    })
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
    const slot = this.nextSlot++
    this.pixels.push(d.pixels)
    const t = d.thumb ? this.thumbs.append(d.thumb) : null
    this.push([
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
      t?.offset ?? null,
      t?.length ?? null,
      this.datasetId,
      relPath,
    ])
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

  private push(row: Row): void {
    this.rows.push(row)
    if (this.rows.length >= FLUSH_EVERY) this.flush()
  }
}
