import type { Database } from 'better-sqlite3'
import type { OverrideItem } from '../../shared/audit'
import { AppError } from '../../shared/result'

type StoredOverride = Omit<OverrideItem, 'excluded'> & { excluded: 0 | 1 }

interface ImageRow {
  id: number
  class_id: number
  rel_path: string
}

/**
 * The person's relabels and exclusions of a dataset's images (image_overrides). An image has at
 * most one row; a row that neither relabels nor excludes any more is deleted, so "no override"
 * has one spelling. Everything that reads a dataset for work reads `labelled_images`.
 */
export class OverridesRepo {
  constructor(private readonly db: Database) {}

  /** The usable image at `path` (relative to the dataset root) or by id. */
  image(datasetId: number, ref: { path?: string; imageId?: number }): ImageRow {
    const row = (
      ref.imageId !== undefined
        ? this.db
            .prepare(
              `SELECT id, class_id, rel_path FROM images WHERE id = ? AND dataset_id = ? AND status = 'ok' AND class_id IS NOT NULL`,
            )
            .get(ref.imageId, datasetId)
        : this.db
            .prepare(
              `SELECT id, class_id, rel_path FROM images WHERE rel_path IN (?, ?) AND dataset_id = ? AND status = 'ok' AND class_id IS NOT NULL`,
            )
            .get(
              normalisePath(ref.path ?? ''),
              normalisePath(ref.path ?? '').normalize('NFC'),
              datasetId,
            )
    ) as ImageRow | undefined
    if (!row)
      throw new AppError(
        'not_found',
        ref.imageId !== undefined
          ? `No image with id ${ref.imageId} in dataset ${datasetId}.`
          : `No image at "${ref.path}" in dataset ${datasetId} (paths are relative to the dataset's folder, e.g. cat/001.png).`,
      )
    return row
  }

  /** Relabels an image as `className` (a class of the dataset); the original class clears it. */
  relabel(datasetId: number, ref: { path?: string; imageId?: number }, className: string): void {
    const im = this.image(datasetId, ref)
    const cls = this.db
      .prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ?')
      .get(datasetId, className.normalize('NFC')) as { id: number } | undefined
    if (!cls) {
      const names = (
        this.db
          .prepare('SELECT name FROM classes WHERE dataset_id = ? ORDER BY name COLLATE NOCASE')
          .all(datasetId) as { name: string }[]
      ).map((c) => c.name)
      throw new AppError(
        'invalid_argument',
        `No class "${className}" in this dataset; its classes are: ${names.join(', ')}.`,
      )
    }
    this.write(im, datasetId, { classId: cls.id === im.class_id ? null : cls.id })
  }

  /** Back to the folder's class. */
  undoRelabel(datasetId: number, ref: { path?: string; imageId?: number }): void {
    this.write(this.image(datasetId, ref), datasetId, { classId: null })
  }

  exclude(datasetId: number, ref: { path?: string; imageId?: number }, excluded = true): void {
    this.write(this.image(datasetId, ref), datasetId, { excluded })
  }

  get(imageId: number): OverrideItem | null {
    const row = this.select('o.image_id = ?').get(imageId) as StoredOverride | undefined
    return row ? { ...row, excluded: row.excluded === 1 } : null
  }

  list(datasetId: number): OverrideItem[] {
    return (this.select('o.dataset_id = ?').all(datasetId) as StoredOverride[]).map((o) => ({
      ...o,
      excluded: o.excluded === 1,
    }))
  }

  private select(where: string) {
    return this.db.prepare(
      `SELECT o.image_id AS imageId, i.rel_path AS path, oc.name AS originalClass,
              COALESCE(c.name, oc.name) AS class, o.excluded, o.updated_at AS updatedAt
       FROM image_overrides o JOIN images i ON i.id = o.image_id JOIN classes oc ON oc.id = i.class_id
       LEFT JOIN classes c ON c.id = o.class_id
       WHERE ${where} ORDER BY o.updated_at DESC, o.image_id`,
    )
  }

  private write(
    im: ImageRow,
    datasetId: number,
    change: { classId?: number | null; excluded?: boolean },
  ): void {
    this.db
      .transaction(() => {
        const cur = this.db
          .prepare('SELECT class_id, excluded FROM image_overrides WHERE image_id = ?')
          .get(im.id) as { class_id: number | null; excluded: 0 | 1 } | undefined
        const classId = change.classId !== undefined ? change.classId : (cur?.class_id ?? null)
        const excluded = change.excluded !== undefined ? change.excluded : cur?.excluded === 1
        if (classId === null && !excluded) {
          this.db.prepare('DELETE FROM image_overrides WHERE image_id = ?').run(im.id)
          return
        }
        this.db
          .prepare(
            `INSERT INTO image_overrides (image_id, dataset_id, class_id, excluded, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (image_id) DO UPDATE SET class_id = excluded.class_id, excluded = excluded.excluded, updated_at = excluded.updated_at`,
          )
          .run(im.id, datasetId, classId, excluded ? 1 : 0, Date.now())
        this.db
          .prepare('UPDATE datasets SET updated_at = ? WHERE id = ?')
          .run(Date.now(), datasetId)
      })
      .immediate()
  }
}

/** Paths as stored: forward slashes, no leading "./". */
export function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '')
}
