import type { Database } from 'better-sqlite3'
import type { MapFeatures, MapMethod, MapPoints, StudioMap } from '../../shared/studio'

export interface MapKey {
  runId: number
  checkpoint: 'best' | 'last'
  method: MapMethod
  features: MapFeatures
  generationId: number | null
}

interface StoredPoints {
  classNames: string[]
  real: MapPoints
  synthetic: MapPoints | null
}

/** Cached studio maps (one row per key; a newer checkpoint or image set replaces it). */
export class StudioRepo {
  constructor(private readonly db: Database) {}

  /**
   * What identifies a dataset's image set for the cache: its ok image count and highest id, and
   * its overrides (count, latest change, a checksum of which image got which class or exclusion).
   */
  imagesKey(datasetId: number): string {
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM images WHERE dataset_id = ? AND status = 'ok' AND slot IS NOT NULL`,
      )
      .get(datasetId) as { n: number; top: number }
    // relabels and exclusions (the map colours by the current label and leaves excluded out)
    const o = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS at,
                COALESCE(SUM(image_id * 31 + COALESCE(class_id, 0) * 7 + excluded), 0) AS sum
         FROM image_overrides WHERE dataset_id = ?`,
      )
      .get(datasetId) as { n: number; at: number; sum: number }
    return `${r.n}:${r.top}:${o.n}:${o.at}:${o.sum}`
  }

  /** A real image's id from its path relative to the dataset's folder (either slash). */
  imageByPath(datasetId: number, relPath: string): number | null {
    const clean = relPath.replace(/\\/g, '/').replace(/^\.\//, '')
    const r = this.db
      .prepare(
        `SELECT id FROM images WHERE dataset_id = ? AND status = 'ok' AND (rel_path = ? OR replace(rel_path, '\\', '/') = ?)`,
      )
      .get(datasetId, clean, clean) as { id: number } | undefined
    return r?.id ?? null
  }

  /** A generation's accepted samples with their ids (file relative to its samples folder). */
  acceptedSamples(generationId: number): { id: number; classIndex: number; file: string }[] {
    return this.db
      .prepare(
        `SELECT id, class_index AS classIndex, file FROM samples WHERE generation_id = ? AND status = 'accepted' ORDER BY id`,
      )
      .all(generationId) as { id: number; classIndex: number; file: string }[]
  }

  /** The cached map for a key, when it was made from this epoch and image set. */
  get(key: MapKey, epoch: number, imagesKey: string): StudioMap | null {
    const row = this.db
      .prepare(
        `SELECT epoch, images_key, points, seconds, created_at FROM studio_maps
         WHERE run_id = ? AND checkpoint = ? AND method = ? AND features = ? AND generation_id = ?`,
      )
      .get(key.runId, key.checkpoint, key.method, key.features, key.generationId ?? 0) as
      | { epoch: number; images_key: string; points: string; seconds: number; created_at: number }
      | undefined
    if (!row || row.epoch !== epoch || row.images_key !== imagesKey) return null
    const p = JSON.parse(row.points) as StoredPoints
    return {
      runId: key.runId,
      method: key.method,
      features: key.features,
      checkpoint: { kind: key.checkpoint, epoch },
      classNames: p.classNames,
      real: p.real,
      synthetic:
        p.synthetic && key.generationId !== null
          ? { ...p.synthetic, generationId: key.generationId }
          : null,
      computedAt: row.created_at,
      seconds: row.seconds,
    }
  }

  put(key: MapKey, map: StudioMap, imagesKey: string): void {
    const points: StoredPoints = {
      classNames: map.classNames,
      real: map.real,
      synthetic: map.synthetic
        ? {
            ids: map.synthetic.ids,
            classIndex: map.synthetic.classIndex,
            x: map.synthetic.x,
            y: map.synthetic.y,
          }
        : null,
    }
    this.db
      .prepare(
        `INSERT INTO studio_maps (run_id, checkpoint, epoch, method, features, generation_id, images_key, points, seconds, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, checkpoint, method, features, generation_id) DO UPDATE SET
           epoch = excluded.epoch, images_key = excluded.images_key, points = excluded.points,
           seconds = excluded.seconds, created_at = excluded.created_at`,
      )
      .run(
        key.runId,
        key.checkpoint,
        map.checkpoint.epoch,
        key.method,
        key.features,
        key.generationId ?? 0,
        imagesKey,
        JSON.stringify(points),
        map.seconds,
        map.computedAt,
      )
  }
}
