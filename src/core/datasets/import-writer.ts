import type { ExistingRow, ImageRow, ImportsRepo } from '../db/imports-repo'
import type { FileOutcome } from './decode-file'
import type { PixelStore, ThumbPack } from './store'

const FLUSH_EVERY = 512

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
  private rows: ImageRow[] = []
  private readonly commitBatch: (place: (base: number) => ImageRow[], count: number) => void
  private readonly commit: () => void

  constructor(
    repo: ImportsRepo,
    private readonly datasetId: number,
    private readonly store: PixelStore,
    private readonly thumbs: ThumbPack,
    private readonly existing: Map<string, ExistingRow>,
  ) {
    this.commitBatch = repo.batchCommitter(datasetId, (rel) => this.existing.has(rel))
    this.commit = () => {
      this.commitBatch((base) => this.place(base), this.pixels.length)
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

  /** Writes the batch's pixels and previews from slot `base` on; returns its rows pointing there. */
  private place(base: number): ImageRow[] {
    this.store.writeMany(base, this.pixels)
    const thumbed = this.previews.flatMap((p, i) => (p ? [i] : []))
    const places = this.thumbs.appendAll(thumbed.map((i) => this.previews[i]!))
    const placed = this.rows.map((row): ImageRow => {
      const r: ImageRow = [...row]
      if (r[9] !== null) r[9] += base
      return r
    })
    thumbed.forEach((i, k) => {
      placed[i][10] = places[k].offset
      placed[i][11] = places[k].length
    })
    return placed
  }

  private push(row: ImageRow, preview: Uint8Array | null = null): void {
    this.rows.push(row)
    this.previews.push(preview)
    if (this.rows.length >= FLUSH_EVERY) this.flush()
  }
}
