// The independent judge of bench/quality (and of sweep.ts): a small CNN trained on the full
// Fashion-MNIST training split, seeded (weights and shuffles), so every run gets the same judge.
import { cachedWeights } from './weights-cache'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rng, shuffle } from '../../src/core/util/random'
import type { loadFashionMnist } from '../../scripts/fashion-mnist.mjs'

type Split = ReturnType<typeof loadFashionMnist>

/** Per class, how many of each count the bench's imbalanced subset takes (Fashion-MNIST label order). */
export const SUBSET_COUNTS = [1500, 1200, 900, 700, 500, 350, 250, 150, 80, 40]

/** The subset: the last images of the training split, up to SUBSET_COUNTS of each class. */
export function subsetIndices(train: Split): number[] {
  const taken = new Array(10).fill(0)
  const out: number[] = []
  for (let i = train.n - 1; i >= 0 && taken.some((t, c) => t < SUBSET_COUNTS[c]); i--) {
    const c = train.label(i)
    if (taken[c] >= SUBSET_COUNTS[c]) continue
    taken[c]++
    out.push(i)
  }
  return out
}

export function judgeModel(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed })
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        activation: 'relu',
        padding: 'same',
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({
        filters: 64,
        kernelSize: 3,
        activation: 'relu',
        padding: 'same',
        kernelInitializer: init(2),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(3) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  })
}

export function asTensors(ds: Pick<Split, 'label' | 'pixels'>, n: number) {
  const x = new Float32Array(n * 784)
  const y = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const p = ds.pixels(i)
    for (let k = 0; k < 784; k++) x[i * 784 + k] = p[k] / 255
    y[i] = ds.label(i)
  }
  return {
    x: tf.tensor4d(x, [n, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(y, 'int32'), 10),
    labels: y,
  }
}

const compiled = (clf: tfl.Sequential): tfl.Sequential => {
  clf.compile({
    optimizer: tf.train.adam(1e-3),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  })
  return clf
}

/** Trains the judge: 3 epochs over the whole training split, shuffled by a seeded permutation. */
export async function trainJudge(
  train: Pick<Split, 'n' | 'label' | 'pixels'>,
): Promise<tfl.Sequential> {
  const clf = compiled(judgeModel())
  const tr = asTensors(train, train.n)
  // fit's own shuffle is not seedable
  const order = Array.from({ length: train.n }, (_, i) => i)
  const rand = rng(7)
  for (let epoch = 0; epoch < 3; epoch++) {
    shuffle(order, rand)
    const idx = tf.tensor1d(order, 'int32')
    const xs = tf.gather(tr.x, idx)
    const ys = tf.gather(tr.y, idx)
    await clf.fit(xs, ys, { epochs: 1, batchSize: 128, verbose: 0, shuffle: false })
    tf.dispose([idx, xs, ys])
  }
  tf.dispose([tr.x, tr.y])
  return clf
}

/**
 * The seeded judge, trained once and kept in $TMPDIR (named by a hash of this file, so a change to
 * the judge trains a new one): training it takes a few minutes on wasm.
 */
export async function cachedJudge(
  train: Pick<Split, 'n' | 'label' | 'pixels'>,
  /** Names the images it trains on when they are not the whole training split. */
  key = 'train',
): Promise<tfl.Sequential> {
  const source = readFileSync(new URL(import.meta.url), 'utf8')
  const hash = createHash('sha256').update(source).update(key).digest('hex').slice(0, 12)
  return cachedWeights(
    `synthfold-bench-judge-${hash}`,
    () => compiled(judgeModel()),
    () => trainJudge(train),
  )
}

/** The judge's class (Fashion-MNIST label) for each 28x28 gray image. */
export function classify(clf: tfl.LayersModel, images: Uint8Array[]): Int32Array {
  return tf.tidy(() => {
    const flat = new Float32Array(images.length * 784)
    images.forEach((im, j) => im.forEach((v, k) => (flat[j * 784 + k] = v / 255)))
    return tf
      .argMax(clf.predict(tf.tensor4d(flat, [images.length, 28, 28, 1])) as tf.Tensor, 1)
      .dataSync() as Int32Array
  })
}
