import * as tf from '@tensorflow/tfjs-core'
import type { TrainSettings } from '../../shared/train-settings'
import type { CvaeShape } from '../models/cvae/model'
import type { LatentStats, Trainer } from './trainer'
import { VqTrainer } from './vq-trainer'

/*
 * A checkpoint as values: its metadata and one float32 block of every tensor. Browser-safe, so the
 * GPU trainer page makes the same checkpoint as the ML process and sends it to main, which writes
 * it (checkpoint.ts); and restores a run sent to it the same way.
 */

/** The last four belong to VQ-VAE checkpoints only (a CVAE's has none of them). */
export type TensorGroup =
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

/** What weights.bin holds and checkpoint.json says. */
export interface CheckpointState {
  meta: CheckpointMeta
  /** Every tensor's float32 values, in `meta.tensors` order. */
  weights: Float32Array
}

/**
 * The trainer's weights and optimiser state. `quick` (a cancel) stores the latent prior fitted
 * last (at most an epoch old) instead of a new pass over the whole dataset, which takes seconds on
 * thousands of large images.
 */
export async function checkpointState(
  trainer: Trainer | VqTrainer,
  bestValLoss: number | null,
  quick = false,
): Promise<CheckpointState> {
  const groups: [TensorGroup, { name: string; tensor: tf.Tensor }[]][] = [
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
  const chunks: Float32Array[] = []
  try {
    for (const [group, list] of groups) {
      for (const { name, tensor } of list) {
        // data(), not dataSync(): on WebGPU a synchronous read stalls the page
        chunks.push((await tensor.data()) as Float32Array)
        tensors.push({ name, shape: tensor.shape, group })
      }
    }
  } finally {
    tf.dispose(temporary)
  }
  const weights = new Float32Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) {
    weights.set(c, at)
    at += c.length
  }
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
  return { meta, weights }
}

/** A checkpoint's tensors, grouped; the caller disposes them. */
export function stateTensors(
  state: CheckpointState,
  where = 'the checkpoint',
): Record<TensorGroup, tf.Tensor[]> {
  const { meta, weights: all } = state
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
    if (at + n > all.length) break
    groups[t.group].push(tf.tensor(all.slice(at, at + n), t.shape, 'float32'))
    at += n
  }
  if (at !== all.length) {
    for (const t of Object.values(groups).flat()) t.dispose()
    throw new Error(`${where} is damaged (weights file size does not match).`)
  }
  return groups
}

/** Restores weights and optimiser state into a trainer built with the same settings. */
export async function applyCheckpointState(
  trainer: Trainer | VqTrainer,
  state: CheckpointState,
  where = 'the checkpoint',
): Promise<CheckpointMeta> {
  const { meta } = state
  const groups = stateTensors(state, where)
  try {
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
      if (!groups.codebook.length) throw new Error(`${where} is not a VQ-VAE's.`)
      trainer.quantizer.setState(groups.codebook[0], groups.quantizer)
      trainer.prior.variables.forEach((v, i) => v.assign(groups.prior[i]))
      if (groups.priorOptimizer.length)
        await trainer.priorOptimizer.setWeights(named('priorOptimizer'))
    }
  } finally {
    for (const t of Object.values(groups).flat()) t.dispose()
  }
  trainer.weightsChanged()
  trainer.epoch = meta.epoch
  trainer.trainedSeconds = meta.trainedSeconds ?? 0
  return meta
}
