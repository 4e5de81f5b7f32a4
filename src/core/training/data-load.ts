import { readFileSync } from 'node:fs'
import type { Database } from 'better-sqlite3'
import { channelCount } from '../../shared/types'
import { PixelStore } from '../datasets/store'
import { datasetDir } from '../util/paths'
import { AppError } from '../../shared/result'
import type { ChannelMode } from '../../shared/types'
import type { TrainingData } from './data'

/* Reading a dataset's images for training or an audit (Node only: the database and the pixel store). */

const HELD_OUT_WHERE = {
  exclude: 'AND held_out = 0',
  include: '',
  only: 'AND held_out = 1',
} as const

/**
 * A dataset's imported images as one uint8 block plus class indices: read once from the pixel
 * store, converted to floats only a batch at a time, so memory never holds float copies of it all.
 * `heldOut` says what to do with the evaluation split (src/shared/held-out.ts): leave it out (what
 * runs and the filters' classifiers see), keep it in (runs from before the split), or take only it
 * (the downstream check's test set). The class list is the same in all three. Images are read
 * through `labelled_images`: a relabelled image under its new class, an excluded one not at all.
 */
export function loadTrainingData(
  db: Database,
  home: string,
  datasetId: number,
  heldOut: 'exclude' | 'include' | 'only',
): TrainingData {
  const ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(datasetId) as
    | { id: number; size: number; channels: ChannelMode; store_generation: number; status: string }
    | undefined
  if (!ds) throw new AppError('not_found', `No dataset with id ${datasetId}.`)
  const classes = db
    .prepare(
      `SELECT c.id, c.name FROM classes c WHERE c.dataset_id = ? AND EXISTS (SELECT 1 FROM labelled_images i WHERE i.class_id = c.id)
       ORDER BY c.name COLLATE NOCASE, c.id`,
    )
    .all(datasetId) as { id: number; name: string }[]
  if (classes.length < 1)
    throw new AppError('invalid_argument', 'This dataset has no images to train on.')
  const index = new Map(classes.map((c, i) => [c.id, i]))
  const rows = db
    .prepare(
      `SELECT id, slot, class_id FROM labelled_images WHERE dataset_id = ? AND slot IS NOT NULL ${HELD_OUT_WHERE[heldOut]} ORDER BY rel_path`,
    )
    .all(datasetId) as { id: number; slot: number; class_id: number }[]
  const c = channelCount(ds.channels)
  const record = ds.size * ds.size * c
  const file = PixelStore.fileFor(datasetDir(home, datasetId), ds.store_generation, ds.size, c)
  const all = readFileSync(file)
  const pixels = new Uint8Array(rows.length * record)
  const labels = new Int32Array(rows.length)
  const ids = new Int32Array(rows.length)
  rows.forEach((r, i) => {
    ids[i] = r.id
    pixels.set(all.subarray(r.slot * record, (r.slot + 1) * record), i * record)
    labels[i] = index.get(r.class_id)!
  })
  return {
    size: ds.size,
    channels: c,
    classNames: classes.map((x) => x.name),
    pixels,
    labels,
    ids,
    count: rows.length,
  }
}

/**
 * Every usable image of a dataset for an audit, excluded ones too (so an exclusion can be undone
 * without auditing again), each under its current class as an index into `classNames` (a run's
 * classes; -1 for a class the run does not know).
 */
export function loadAuditData(
  db: Database,
  home: string,
  datasetId: number,
  classNames: string[],
): TrainingData {
  const ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(datasetId) as
    { size: number; channels: ChannelMode; store_generation: number } | undefined
  if (!ds) throw new AppError('not_found', `No dataset with id ${datasetId}.`)
  const rows = db
    .prepare(
      `SELECT i.id, i.slot, COALESCE(c.name, oc.name) AS class_name FROM images i
       JOIN classes oc ON oc.id = i.class_id
       LEFT JOIN image_overrides o ON o.image_id = i.id LEFT JOIN classes c ON c.id = o.class_id
       WHERE i.dataset_id = ? AND i.status = 'ok' AND i.slot IS NOT NULL ORDER BY i.rel_path`,
    )
    .all(datasetId) as { id: number; slot: number; class_name: string }[]
  const index = new Map(classNames.map((n, i) => [n, i]))
  const c = channelCount(ds.channels)
  const record = ds.size * ds.size * c
  const file = PixelStore.fileFor(datasetDir(home, datasetId), ds.store_generation, ds.size, c)
  const all = readFileSync(file)
  const pixels = new Uint8Array(rows.length * record)
  const labels = new Int32Array(rows.length)
  const ids = new Int32Array(rows.length)
  rows.forEach((r, i) => {
    ids[i] = r.id
    pixels.set(all.subarray(r.slot * record, (r.slot + 1) * record), i * record)
    labels[i] = index.get(r.class_name) ?? -1
  })
  return { size: ds.size, channels: c, classNames, pixels, labels, ids, count: rows.length }
}
