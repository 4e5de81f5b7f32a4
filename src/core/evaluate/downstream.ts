import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import { rng, shuffle } from '../util/random'
import { classifier, type CvaeShape } from '../models/cvae/model'

/** What the check's classifier needs to know of the images. */
export type ImageShape = Pick<CvaeShape, 'size' | 'channels' | 'classes'>
import { toUnitFloats } from '../generation/generator'
import { writeShifted } from '../training/shift'

/** Images (each size * size * channels bytes) with their class and loss weight. */
export interface LabeledImages {
  images: Uint8Array[]
  labels: number[]
  /** Loss weight per image (1 when absent). */
  weights?: number[]
}

/** The one recipe every arm of the check trains with: only the data and the loss differ. */
export interface DownstreamRecipe {
  steps: number
  batch: number
  learningRate: number
  seed: number
}

/**
 * The optimiser steps of the check's classifier for a real training set: about `epochs` passes
 * over the real images, at least 300 steps (a small set still trains) and at most 3,000 (a large
 * one does not take all night). Every arm gets the same count, synthetic images or not, so an arm
 * with more images is not also an arm with more training.
 */
export function downstreamSteps(realImages: number, epochs = 30, batch = 64): number {
  return Math.min(3000, Math.max(300, Math.ceil((epochs * realImages) / batch)))
}

/**
 * Trains the check's classifier (the same small CNN as the class test's, sized to the image) on
 * `train`: uniform batches, each image shifted by up to two pixels, softmax cross-entropy weighted
 * per image, with `adjust` added to the logits in training only (logit adjustment).
 */
export async function trainDownstream(
  train: LabeledImages,
  shape: ImageShape,
  o: {
    recipe: DownstreamRecipe
    adjust?: number[]
    shouldStop?: () => boolean
    onStep?: (step: number) => void
  },
): Promise<tfl.LayersModel> {
  const { recipe } = o
  const model = classifier({ ...shape, seed: recipe.seed })
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const opt = tf.train.adam(recipe.learningRate)
  const rand = rng(recipe.seed)
  const order = Array.from(train.images.keys())
  const adjust = o.adjust ? tf.tensor1d(o.adjust) : null
  let at = order.length
  try {
    for (let step = 0; step < recipe.steps; step++) {
      const idx: number[] = []
      while (idx.length < Math.min(recipe.batch, order.length)) {
        if (at >= order.length) {
          shuffle(order, rand)
          at = 0
        }
        idx.push(order[at++])
      }
      const { x, y, w } = shiftedBatch(train, idx, shape, rand)
      tf.tidy(() => {
        const xt = tf.tensor4d(x, [idx.length, shape.size, shape.size, shape.channels])
        const yt = tf.tensor2d(y, [idx.length, shape.classes])
        const wt = tf.tensor1d(w)
        const { grads } = tf.variableGrads(() => {
          const logits = model.apply(xt, { training: true }) as tf.Tensor2D
          return tf.losses.softmaxCrossEntropy(
            yt,
            adjust ? tf.add(logits, adjust) : logits,
            wt,
          ) as tf.Scalar
        }, vars)
        opt.applyGradients(grads as Record<string, tf.Variable>)
      })
      o.onStep?.(step + 1)
      // let cancel and progress messages through
      if (step % 16 === 15) {
        await new Promise((r) => setImmediate(r))
        if (o.shouldStop?.()) break
      }
    }
  } finally {
    adjust?.dispose()
    opt.dispose()
  }
  return model
}

/** The class each image is put in by a trained classifier. */
export function predictClasses(
  model: tfl.LayersModel,
  images: Uint8Array[],
  shape: ImageShape,
): Int32Array {
  const record = shape.size * shape.size * shape.channels
  const out = new Int32Array(images.length)
  for (let s = 0; s < images.length; s += 256) {
    const part = images.slice(s, s + 256)
    const classes = tf.tidy(() =>
      tf.argMax(
        model.apply(
          tf.tensor4d(toUnitFloats(part, record), [
            part.length,
            shape.size,
            shape.size,
            shape.channels,
          ]),
        ) as tf.Tensor2D,
        1,
      ),
    )
    out.set(classes.dataSync() as Int32Array, s)
    classes.dispose()
  }
  return out
}

function shiftedBatch(
  set: LabeledImages,
  indices: number[],
  shape: ImageShape,
  rand: () => number,
): { x: Float32Array; y: Float32Array; w: Float32Array } {
  const { size, channels, classes } = shape
  const record = size * size * channels
  const x = new Float32Array(indices.length * record)
  const y = new Float32Array(indices.length * classes)
  const w = new Float32Array(indices.length)
  indices.forEach((idx, b) => {
    writeShifted(set.images[idx], x, b * record, size, channels, rand)
    y[b * classes + set.labels[idx]] = 1
    w[b] = set.weights?.[idx] ?? 1
  })
  return { x, y, w }
}
