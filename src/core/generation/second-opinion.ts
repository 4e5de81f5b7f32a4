import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import { epochOrder, type TrainingData } from '../training/data'
import { writeShifted } from '../training/shift'
import { rng } from '../util/random'
import { classifier, type CvaeShape } from '../models/cvae/model'
import { toUnitFloats } from './generator'

/** What cross-fitting learned about the real images: each one scored by a model that never saw it. */
export interface HeldOutScores {
  /** Per real image (index into the training data): the probability of its own class, NaN if unused. */
  own: Float32Array
  /** Per real image: the class the held-out model put it in (-1 if unused). */
  predicted: Int32Array
}

/**
 * The class test's classifiers, trained in the generation process on the real images only. The
 * run's own classifier shaped the decoder (its verdict was a training loss), so the decoder learned
 * to please it with features no other classifier relies on; these, never seen by the decoder, are
 * an independent opinion. They are cross-fitted: the real images are split into folds, each model
 * trains on all folds but one, so every real image is scored once by a model that never saw it.
 * Those held-out scores calibrate the per-class thresholds (how class-like a real image of the
 * class looks to a classifier that did not learn it); a sample is scored by the mean of all the
 * models (an ensemble, steadier on small data than one model).
 */
export class SecondOpinion {
  private constructor(private readonly models: tfl.LayersModel[]) {}

  /**
   * Trains `folds` models, each for at least `minSteps` optimiser steps (small datasets need many
   * epochs) and at most `epochs` epochs or its share of `budgetMs`; `labels` are the checkpoint's
   * class indices (-1: not a class of the checkpoint).
   */
  static async crossFit(
    data: TrainingData,
    labels: Int32Array,
    shape: CvaeShape,
    o: {
      folds: number
      epochs: number
      minSteps: number
      budgetMs: number
      seed: number
      onProgress?: (model: number, of: number) => void
      shouldStop?: () => boolean
    },
  ): Promise<{ opinion: SecondOpinion; heldOut: HeldOutScores }> {
    const usable = Array.from(labels.keys()).filter((i) => labels[i] >= 0)
    const rand = rng(o.seed)
    const fold = assignFolds(usable, labels, o.folds, rand)
    const models: tfl.LayersModel[] = []
    const own = new Float32Array(data.count).fill(NaN)
    const predicted = new Int32Array(data.count).fill(-1)
    const folds = Math.max(1, Math.min(o.folds, usable.length))
    for (let k = 0; k < folds; k++) {
      o.onProgress?.(k + 1, folds)
      const train = folds > 1 ? usable.filter((i) => fold.get(i) !== k) : usable
      const model = await trainOne(data, labels, shape, train, {
        epochs: o.epochs,
        minSteps: o.minSteps,
        budgetMs: o.budgetMs / folds,
        seed: o.seed + 101 * k,
        rand,
        shouldStop: o.shouldStop,
      })
      models.push(model)
      const held = folds > 1 ? usable.filter((i) => fold.get(i) === k) : []
      const record = shape.size * shape.size * shape.channels
      for (let s = 0; s < held.length; s += 256) {
        const idx = held.slice(s, s + 256)
        const probs = predict(
          model,
          idx.map((i) => data.pixels.subarray(i * record, (i + 1) * record)),
          shape,
        )
        idx.forEach((i, j) => {
          const row = probs.subarray(j * shape.classes, (j + 1) * shape.classes)
          own[i] = row[labels[i]]
          let best = 0
          for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c
          predicted[i] = best
        })
      }
      if (o.shouldStop?.()) break
    }
    return { opinion: new SecondOpinion(models), heldOut: { own, predicted } }
  }

  /** Probability of each image's intended class: the mean over the models. */
  confidence(images: Uint8Array[], classIndex: number, shape: CvaeShape): number[] {
    const out = new Array<number>(images.length).fill(0)
    for (const m of this.models) {
      const probs = predict(m, images, shape)
      for (let j = 0; j < images.length; j++)
        out[j] += probs[j * shape.classes + classIndex] / this.models.length
    }
    return out
  }

  dispose(): void {
    for (const m of this.models) m.dispose()
  }
}

/** Stratified folds: within each class, images are dealt out to the folds in a seeded order. */
function assignFolds(
  usable: number[],
  labels: Int32Array,
  folds: number,
  rand: () => number,
): Map<number, number> {
  const byClass = new Map<number, number[]>()
  for (const i of usable) {
    const list = byClass.get(labels[i]) ?? []
    list.push(i)
    byClass.set(labels[i], list)
  }
  const out = new Map<number, number>()
  let offset = 0
  for (const list of byClass.values()) {
    for (let j = list.length - 1; j > 0; j--) {
      const r = Math.floor(rand() * (j + 1))
      ;[list[j], list[r]] = [list[r], list[j]]
    }
    // the offset rotates so that small classes do not all leave their one image in fold 0
    list.forEach((i, j) => out.set(i, (j + offset) % folds))
    offset++
  }
  return out
}

async function trainOne(
  data: TrainingData,
  labels: Int32Array,
  shape: CvaeShape,
  train: number[],
  o: {
    epochs: number
    minSteps: number
    budgetMs: number
    seed: number
    rand: () => number
    shouldStop?: () => boolean
  },
): Promise<tfl.LayersModel> {
  const model = classifier({ ...shape, seed: o.seed })
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const opt = tf.train.adam(1e-3)
  const t0 = Date.now()
  const batch = 64
  const stepsPerEpoch = Math.max(1, Math.ceil(train.length / batch))
  const epochs = Math.max(o.epochs, Math.ceil(o.minSteps / stepsPerEpoch))
  let steps = 0
  outer: for (let e = 0; e < epochs; e++) {
    const order = epochOrder(train, labels, true, o.rand)
    for (let i = 0; i < order.length; i += batch) {
      const idx = order.slice(i, i + batch)
      const { x, y } = shiftedBatch(data, labels, idx, shape, o.rand)
      tf.tidy(() => {
        const xt = tf.tensor4d(x, [idx.length, shape.size, shape.size, shape.channels])
        const yt = tf.tensor2d(y, [idx.length, shape.classes])
        const { grads } = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(
              yt,
              model.apply(xt, { training: true }) as tf.Tensor2D,
            ) as tf.Scalar,
          vars,
        )
        opt.applyGradients(grads as Record<string, tf.Variable>)
      })
      steps++
      if (Date.now() - t0 > o.budgetMs && steps >= Math.min(o.minSteps, stepsPerEpoch)) break outer
      // let cancel and progress messages through
      if (steps % 16 === 0) {
        await new Promise((r) => setImmediate(r))
        if (o.shouldStop?.()) break outer
      }
    }
  }
  opt.dispose()
  return model
}

/**
 * A batch of unit floats and one-hot labels, each image shifted by up to MAX_SHIFT pixels (edges
 * repeated): a label-preserving augmentation for any kind of image, which keeps a classifier
 * trained on a few dozen images per class from learning them by heart.
 */
function shiftedBatch(
  data: TrainingData,
  labels: Int32Array,
  indices: number[],
  shape: CvaeShape,
  rand: () => number,
): { x: Float32Array; y: Float32Array } {
  const { size, channels, classes } = shape
  const record = size * size * channels
  const x = new Float32Array(indices.length * record)
  const y = new Float32Array(indices.length * classes)
  indices.forEach((idx, b) => {
    const src = data.pixels.subarray(idx * record, (idx + 1) * record)
    writeShifted(src, x, b * record, size, channels, rand)
    y[b * classes + labels[idx]] = 1
  })
  return { x, y }
}

function predict(model: tfl.LayersModel, images: Uint8Array[], shape: CvaeShape): Float32Array {
  const record = shape.size * shape.size * shape.channels
  const flat = toUnitFloats(images, record)
  const probs = tf.tidy(() =>
    tf.softmax(
      model.apply(
        tf.tensor4d(flat, [images.length, shape.size, shape.size, shape.channels]),
      ) as tf.Tensor2D,
    ),
  )
  const out = probs.dataSync() as Float32Array
  probs.dispose()
  return out
}
