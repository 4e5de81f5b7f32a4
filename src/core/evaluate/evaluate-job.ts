import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { BackendInfo } from '../../shared/backend'
import type { ArmResult } from '../../shared/evaluation'
import type { EvaluateJob, FromTrainer } from '../../shared/ml-protocol'
import { readPng } from '../generation/generate'
import { type TrainingData } from '../training/data'
import { loadTrainingData } from '../training/data-load'
import { CancelledError, evaluateArms } from './arms'
import type { LabeledImages } from './downstream'

const asImages = (d: TrainingData): LabeledImages => {
  const record = d.size * d.size * d.channels
  return {
    images: Array.from({ length: d.count }, (_, i) =>
      d.pixels.subarray(i * record, (i + 1) * record),
    ),
    labels: Array.from(d.labels),
  }
}

/**
 * The downstream check, in the ML process: the real images the run could train on, the
 * generation's accepted samples, and the dataset's evaluation split as the test set; every arm's
 * classifiers trained and scored (arms.ts). Classes are the dataset's (a generation's class
 * indices are mapped by name).
 */
export async function runEvaluation(
  job: EvaluateJob,
  backend: BackendInfo,
  send: (m: FromTrainer) => void,
  shouldStop: () => boolean,
): Promise<void> {
  const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
  let train: TrainingData
  let test: TrainingData
  try {
    train = loadTrainingData(db, job.home, job.datasetId, 'exclude')
    test = loadTrainingData(db, job.home, job.datasetId, 'only')
  } finally {
    db.close()
  }
  if (!test.count)
    throw new Error(
      'This dataset has no evaluation split: every class has fewer than 12 images, too few to hold any out.',
    )
  const classNames = train.classNames
  const synthetic: LabeledImages = { images: [], labels: [] }
  const record = train.size * train.size * train.channels
  for (const s of job.samples) {
    if (shouldStop()) return send({ type: 'eval-done', outcome: 'cancelled', arms: [] })
    const c = classNames.indexOf(job.classNames[s.classIndex])
    if (c < 0) continue
    const px = await readPng(join(job.samplesDir, s.file), train.channels)
    if (px.length !== record)
      throw new Error(
        `The dataset was re-imported at ${train.size} px since this generation was made: its samples no longer match the real images. Generate again from a run on the dataset as it is now.`,
      )
    synthetic.images.push(px)
    synthetic.labels.push(c)
  }
  const counts = classNames.map((_, c) => test.labels.filter((l) => l === c).length)
  send({
    type: 'eval-started',
    backend,
    heldOut: classNames.map((name, c) => ({ class: name, count: counts[c] })),
    syntheticImages: synthetic.images.length,
  })
  let finished: ArmResult[] = []
  try {
    const arms = await evaluateArms({
      real: asImages(train),
      synthetic,
      test: asImages(test),
      classNames,
      shape: { size: train.size, channels: train.channels, classes: classNames.length },
      seeds: job.seeds,
      epochs: job.epochs ?? undefined,
      shouldStop,
      onArm: (a) => (finished = a),
      onProgress: (p) =>
        send({ type: 'eval-progress', done: p.done, of: p.of, arm: p.arm, arms: finished }),
    })
    send({ type: 'eval-done', outcome: 'completed', arms })
  } catch (err) {
    if (!(err instanceof CancelledError)) throw err
    send({ type: 'eval-done', outcome: 'cancelled', arms: finished })
  }
}
