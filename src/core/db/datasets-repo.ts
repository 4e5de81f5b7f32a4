import type { Database } from 'better-sqlite3'
import type {
  ChannelMode,
  DatasetStatus,
  DatasetSummary,
  FitMode,
  ImageItem,
  SkippedFile,
} from '../../shared/types'
import { heldOutCount, type HeldOutClass } from '../../shared/held-out'
import { rng, shuffle } from '../util/random'

export interface DatasetRow {
  id: number
  name: string
  root: string
  size: number
  channels: ChannelMode
  fit: FitMode
  status: DatasetStatus
  store_generation: number
  next_slot: number
  import_pid: number | null
  last_error: string | null
  last_import: string | null
  created_at: number
  updated_at: number
  imported_at: number | null
}

export interface ImageRef {
  datasetId: number
  generation: number
  size: number
  channels: ChannelMode
  slot: number | null
  thumbOffset: number | null
  thumbLength: number | null
}

/** Read side of datasets, classes and images, for the API; the import worker writes. */
export class DatasetsRepo {
  constructor(private readonly db: Database) {}

  row(id: number): DatasetRow | undefined {
    return this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined
  }

  rowByRoot(root: string): DatasetRow | undefined {
    return this.db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as
      DatasetRow | undefined
  }

  list(): DatasetSummary[] {
    const rows = this.db
      .prepare('SELECT * FROM datasets ORDER BY updated_at DESC, id DESC')
      .all() as DatasetRow[]
    return rows.map((r) => this.summarise(r))
  }

  get(id: number): DatasetSummary | undefined {
    const r = this.row(id)
    return r ? this.summarise(r) : undefined
  }

  /**
   * Sets the evaluation split aside the first time a dataset is used (a run or generation starts):
   * per class, heldOutCount of its images, in a seeded order of their paths, so the same folder
   * always gets the same split. Later imports add images to training only. Returns the split.
   */
  ensureHeldOut(datasetId: number): HeldOutClass[] {
    this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT held_out_at FROM datasets WHERE id = ?')
          .get(datasetId) as { held_out_at: number | null } | undefined
        if (!row || row.held_out_at !== null) return
        const images = this.db
          .prepare(
            `SELECT id, class_id FROM labelled_images WHERE dataset_id = ? ORDER BY rel_path`,
          )
          .all(datasetId) as { id: number; class_id: number }[]
        const byClass = new Map<number, number[]>()
        for (const im of images)
          byClass.set(im.class_id, [...(byClass.get(im.class_id) ?? []), im.id])
        const mark = this.db.prepare('UPDATE images SET held_out = 1 WHERE id = ?')
        for (const [classId, ids] of byClass) {
          const order = shuffle([...ids], rng(classId * 7919 + datasetId))
          for (const id of order.slice(0, heldOutCount(ids.length))) mark.run(id)
        }
        this.db
          .prepare('UPDATE datasets SET held_out_at = ? WHERE id = ?')
          .run(Date.now(), datasetId)
        // immediate: an import worker's commit between the read and the write must not fail it
      })
      .immediate()
    return this.heldOut(datasetId)
  }

  /** Per class: the images held out for evaluation (none before the dataset is first used). */
  heldOut(datasetId: number): HeldOutClass[] {
    return this.db
      .prepare(
        `SELECT c.name AS className, COALESCE(SUM(i.held_out), 0) AS count, COUNT(i.id) AS total FROM classes c
         JOIN labelled_images i ON i.class_id = c.id
         WHERE c.dataset_id = ? GROUP BY c.id ORDER BY c.name COLLATE NOCASE, c.id`,
      )
      .all(datasetId) as HeldOutClass[]
  }

  private summarise(r: DatasetRow): DatasetSummary {
    const classes = this.db
      .prepare(
        `SELECT c.id, c.name, COUNT(i.id) AS count, COALESCE(SUM(i.held_out), 0) AS heldOut FROM classes c
         LEFT JOIN labelled_images i ON i.class_id = c.id
         WHERE c.dataset_id = ? GROUP BY c.id ORDER BY c.name COLLATE NOCASE, c.id`,
      )
      .all(r.id) as { id: number; name: string; count: number; heldOut: number }[]
    const overrides = this.db
      .prepare(
        `SELECT COALESCE(SUM(o.class_id IS NOT NULL AND o.class_id <> i.class_id AND o.excluded = 0), 0) AS relabelled,
                COALESCE(SUM(o.excluded), 0) AS excluded
         FROM image_overrides o JOIN images i ON i.id = o.image_id AND i.status = 'ok' WHERE o.dataset_id = ?`,
      )
      .get(r.id) as { relabelled: number; excluded: number }
    const skipped = this.db
      .prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'skipped'`)
      .get(r.id) as { n: number }
    const counts = classes.map((c) => c.count).filter((n) => n > 0)
    const imageCount = counts.reduce((a, b) => a + b, 0)
    const preview = this.db
      .prepare(`SELECT id FROM labelled_images WHERE dataset_id = ? ORDER BY class_id, id LIMIT 4`)
      .all(r.id) as { id: number }[]
    return {
      id: r.id,
      name: r.name,
      root: r.root,
      size: r.size,
      channels: r.channels,
      fit: r.fit,
      status: r.status,
      imageCount,
      skippedCount: skipped.n,
      classCount: classes.length,
      imbalanceRatio: counts.length ? Math.max(...counts) / Math.min(...counts) : 0,
      classes,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      importedAt: r.imported_at,
      lastError: r.last_error,
      previewImageIds: preview.map((p) => p.id),
      overrides,
    }
  }

  images(
    datasetId: number,
    classId: number | undefined,
    offset: number,
    limit: number,
  ): { total: number; items: ImageItem[] } {
    const where = `dataset_id = ?${classId ? ' AND class_id = ?' : ''}`
    const params = classId ? [datasetId, classId] : [datasetId]
    const total = (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM labelled_images WHERE ${where}`)
        .get(...params) as {
        n: number
      }
    ).n
    const items = this.db
      .prepare(
        `SELECT id, class_id AS classId, rel_path AS relPath, width, height FROM labelled_images
         WHERE ${where} ORDER BY class_id, id LIMIT ? OFFSET ?`,
      )
      .all(...params, limit, offset) as ImageItem[]
    return { total, items }
  }

  skipped(
    datasetId: number,
    offset: number,
    limit: number,
  ): { total: number; items: SkippedFile[] } {
    const total = (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'skipped'`)
        .get(datasetId) as {
        n: number
      }
    ).n
    const items = this.db
      .prepare(
        `SELECT rel_path AS path, error AS reason FROM images WHERE dataset_id = ? AND status = 'skipped'
         ORDER BY rel_path LIMIT ? OFFSET ?`,
      )
      .all(datasetId, limit, offset) as SkippedFile[]
    return { total, items }
  }

  imageRef(imageId: number): ImageRef | undefined {
    return this.db
      .prepare(
        `SELECT d.id AS datasetId, d.store_generation AS generation, d.size, d.channels, i.slot,
                i.thumb_offset AS thumbOffset, i.thumb_length AS thumbLength
         FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.id = ? AND i.status = 'ok'`,
      )
      .get(imageId) as ImageRef | undefined
  }

  rename(id: number, name: string): void {
    this.db
      .prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?')
      .run(name, Date.now(), id)
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id)
  }

  /** Imports that were running in a process that is gone are marked incomplete, to resume later. */
  recoverInterrupted(isAlive: (pid: number) => boolean): number {
    const rows = this.db
      .prepare(`SELECT id, import_pid FROM datasets WHERE status = 'importing'`)
      .all() as {
      id: number
      import_pid: number | null
    }[]
    let n = 0
    for (const r of rows) {
      if (r.import_pid !== null && isAlive(r.import_pid)) continue
      this.db
        .prepare(
          `UPDATE datasets SET status = 'incomplete', import_pid = NULL,
           last_error = 'The import was interrupted (the app or computer stopped). Import the folder again to finish it.'
           WHERE id = ?`,
        )
        .run(r.id)
      n++
    }
    return n
  }
}
