import * as tf from '@tensorflow/tfjs-core'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TrainSettings } from '../../shared/train-settings'
import type { CvaeShape } from '../models/cvae/model'
import type { LatentStats, Trainer } from './trainer'
import { VqTrainer } from './vq-trainer'

/** The last four belong to VQ-VAE checkpoints only (a CVAE's has none of them). */
type TensorGroup =
  | 'encoder'
  | 'decoder'
  | 'classifier'
  | 'optimizer'
  | 'classifierOptimizer'
  | 'codebook'
  | 'quantizer'
  | 'prior'
  | 'priorOptimizer'

export interface CheckpointMeta {
  format: 1
  epoch: number
  shape: CvaeShape
  settings: TrainSettings
  classNames: string[]
  bestValLoss: number | null
  /** Seconds trained up to this checkpoint, for the time budget (absent before budgets). */
  trainedSeconds?: number
  /** Fitted class-conditional prior used for sampling (absent in very old checkpoints). */
  latentStats?: LatentStats
  /** Layer weights (encoder then decoder) and optimiser state, in file order. */
  tensors: { name: string; shape: number[]; group: TensorGroup }[]
}

/**
 * Writes weights and optimiser state to `<dir>.tmp`, then renames it to `dir`: a reader never sees
 * a half-written checkpoint, and a crash leaves at worst a .tmp folder that the next save replaces.
 * `quick` (a cancel) stores the latent prior fitted last (at most an epoch old) instead of a new
 * pass over the whole dataset, which takes seconds on thousands of large images.
 */
export async function saveCheckpoint(
  trainer: Trainer | VqTrainer,
  dir: string,
  bestValLoss: number | null,
  quick = false,
): Promise<void> {
  const tmp = `${dir}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  const groups: [
    CheckpointMeta['tensors'][number]['group'],
    { name: string; tensor: tf.Tensor }[],
  ][] = [
    [
      'encoder',
      trainer.model.encoder.weights.map((w) => ({ name: w.originalName, tensor: w.read() })),
    ],
    [
      'decoder',
      trainer.model.decoder.weights.map((w) => ({ name: w.originalName, tensor: w.read() })),
    ],
    [
      'classifier',
      trainer.model.classifier.weights.map((w) => ({ name: w.originalName, tensor: w.read() })),
    ],
    ['optimizer', await trainer.optimizer.getWeights()],
    ['classifierOptimizer', await trainer.classifierOptimizer.getWeights()],
  ]
  const temporary: tf.Tensor[] = []
  if (trainer instanceof VqTrainer) {
    const state = trainer.quantizer.state()
    temporary.push(...state.map((t) => t.tensor))
    groups.push(
      ['codebook', [{ name: 'codebook', tensor: trainer.quantizer.codebook }]],
      ['quantizer', state],
      ['prior', trainer.prior.variables.map((v, i) => ({ name: `prior_${i}`, tensor: v }))],
      ['priorOptimizer', await trainer.priorOptimizer.getWeights()],
    )
  }
  const tensors: CheckpointMeta['tensors'] = []
  const chunks: Buffer[] = []
  for (const [group, list] of groups) {
    for (const { name, tensor } of list) {
      const data = (await tensor.data()) as Float32Array
      chunks.push(Buffer.from(new Float32Array(data).buffer))
      tensors.push({ name, shape: tensor.shape, group })
    }
  }
  tf.dispose(temporary)
  const meta: CheckpointMeta = {
    format: 1,
    epoch: trainer.epoch,
    shape: trainer.model.shape,
    settings: trainer.settings,
    classNames: trainer.data.classNames,
    bestValLoss,
    trainedSeconds: trainer.trainedSeconds,
    latentStats:
      trainer instanceof VqTrainer
        ? undefined
        : quick
          ? trainer.latestLatentStats()
          : trainer.latentStats(),
    tensors,
  }
  try {
    const weights = Buffer.concat(chunks)
    if (injectedDiskFull(trainer.epoch)) {
      writeFileSync(join(tmp, 'weights.bin'), weights.subarray(0, weights.length >> 1))
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' })
    }
    writeFileSync(join(tmp, 'weights.bin'), weights)
    writeFileSync(join(tmp, 'checkpoint.json'), JSON.stringify(meta, null, 1))
  } catch (err) {
    // A failed write (a full disk) leaves the previous checkpoint in place and no temp folder.
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  rmSync(dir, { recursive: true, force: true })
  renameSync(tmp, dir)
}

/**
 * Fault injection for tests on machines where no small file system can be mounted:
 * SYNTHFOLD_FAULT=disk-full@E makes every checkpoint written from epoch E on fail half-way with
 * ENOSPC, as a full disk does.
 */
function injectedDiskFull(epoch: number): boolean {
  const m = /^disk-full@(\d+)$/.exec(process.env.SYNTHFOLD_FAULT ?? '')
  return m !== null && epoch >= Number(m[1])
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  const file = join(dir, 'checkpoint.json')
  if (!existsSync(file)) throw new Error(`No checkpoint at ${dir}`)
  return JSON.parse(readFileSync(file, 'utf8')) as CheckpointMeta
}

/** Loads a checkpoint's tensors, grouped; the caller disposes them. */
export function readCheckpointTensors(dir: string): {
  meta: CheckpointMeta
  groups: Record<string, tf.Tensor[]>
} {
  const meta = readCheckpointMeta(dir)
  const bin = readFileSync(join(dir, 'weights.bin'))
  const all = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4)
  const groups: Record<TensorGroup, tf.Tensor[]> = {
    encoder: [],
    decoder: [],
    classifier: [],
    optimizer: [],
    classifierOptimizer: [],
    codebook: [],
    quantizer: [],
    prior: [],
    priorOptimizer: [],
  }
  let at = 0
  for (const t of meta.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    groups[t.group].push(tf.tensor(all.slice(at, at + n), t.shape, 'float32'))
    at += n
  }
  if (at !== all.length)
    throw new Error(`Checkpoint ${dir} is damaged (weights file size does not match).`)
  return { meta, groups }
}

/** Restores weights and optimiser state into a trainer built with the same settings. */
export async function restoreTrainer(
  trainer: Trainer | VqTrainer,
  dir: string,
): Promise<CheckpointMeta> {
  const { meta, groups } = readCheckpointTensors(dir)
  trainer.model.encoder.setWeights(groups.encoder)
  trainer.model.decoder.setWeights(groups.decoder)
  if (groups.classifier.length) trainer.model.classifier.setWeights(groups.classifier)
  const named = (group: TensorGroup) => {
    const names = meta.tensors.filter((t) => t.group === group).map((t) => t.name)
    return groups[group].map((tensor, i) => ({ name: names[i], tensor }))
  }
  if (groups.optimizer.length) await trainer.optimizer.setWeights(named('optimizer'))
  if (groups.classifierOptimizer.length) {
    await trainer.classifierOptimizer.setWeights(named('classifierOptimizer'))
  }
  if (trainer instanceof VqTrainer) {
    if (!groups.codebook.length) throw new Error(`Checkpoint ${dir} is not a VQ-VAE's.`)
    trainer.quantizer.setState(groups.codebook[0], groups.quantizer)
    trainer.prior.variables.forEach((v, i) => v.assign(groups.prior[i]))
    if (groups.priorOptimizer.length)
      await trainer.priorOptimizer.setWeights(named('priorOptimizer'))
  }
  for (const t of Object.values(groups).flat()) t.dispose()
  trainer.weightsChanged()
  trainer.epoch = meta.epoch
  trainer.trainedSeconds = meta.trainedSeconds ?? 0
  return meta
}
