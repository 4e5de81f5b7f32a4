import * as tf from '@tensorflow/tfjs-core'
import type { BatchProgress } from '../../core/training/trainer'
import { Trainer } from '../../core/training/trainer'
import { VqTrainer } from '../../core/training/vq-trainer'
import type { TrainingData } from '../../core/training/data'
import { rng } from '../../core/util/random'
import { resolveSettings, type ModelFamily, type TrainSettings } from '../../shared/train-settings'
import type { BrowserBackendName, FamilyCheck } from '../../shared/gpu'
import { useBackend } from './backends'

/**
 * The numeric check: each model family trained the same few steps, from the same weights and seed,
 * on the target backend (WebGPU) and on a reference one (cpu), compared step by step.
 */

/** Synthetic images: a class-dependent blob on seeded noise, 28 px gray, three classes. */
export function syntheticData(count = 24, size = 28, classes = 3, seed = 5): TrainingData {
  const rand = rng(seed)
  const pixels = new Uint8Array(count * size * size)
  const labels = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const c = i % classes
    labels[i] = c
    const cx = ((c + 1) * size) / (classes + 1)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(x - cx, y - size / 2)
        const v = 200 * Math.exp(-(d * d) / 30) + 40 * rand()
        pixels[i * size * size + y * size + x] = Math.min(255, Math.round(v))
      }
  }
  return {
    size,
    channels: 1,
    classNames: Array.from({ length: classes }, (_, c) => `class-${c}`),
    pixels,
    labels,
    ids: Int32Array.from({ length: count }, (_, i) => i + 1),
    count,
  }
}

/** Small settings for a check: one epoch of `count / batchSize` steps, no validation split. */
export function checkSettings(family: ModelFamily, data: TrainingData): TrainSettings {
  return resolveSettings(
    {
      preset: 'fast',
      model: family,
      epochs: 1,
      batchSize: 8,
      baseFilters: 8,
      latentDim: 4,
      validationSplit: 0,
      seed: 11,
      ...(family === 'vqvae' ? { vqCodebookSize: 16, vqCodeDim: 4, priorEpochs: 1 } : {}),
    },
    { size: data.size, channels: data.channels, imageCount: data.count },
  )
}

type AnyTrainer = Trainer | VqTrainer

/** Every variable a family's steps change, in a fixed order. */
export function trainedVariables(t: AnyTrainer): tf.Variable[] {
  if (t instanceof VqTrainer)
    return [
      ...t.model.autoencoderWeights(),
      t.quantizer.codebook,
      ...t.model.classifierWeights(),
      ...t.prior.variables,
    ]
  return [...t.model.vaeWeights(), ...t.model.classifierWeights()]
}

/** Generated pixels in [0, 1] from a fixed seed: decoder samples, or VQ reconstructions. */
export function generatedPixels(t: AnyTrainer): Float32Array {
  if (t instanceof VqTrainer) {
    const images = t.reconstruct([0, 1, 2, 3, 4, 5])
    const out = new Float32Array(images.reduce((n, im) => n + im.length, 0))
    let at = 0
    for (const im of images) for (const v of im) out[at++] = v / 255
    return out
  }
  return tf.tidy(() => {
    const n = 6
    const z = tf.randomNormal([n, t.settings.latentDim], 0, 1, 'float32', 99)
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => i % t.classes),
        'int32',
      ),
      t.classes,
    )
    const logits = t.model.decoder.apply([z, tf.cast(y, 'float32')]) as tf.Tensor
    return tf.sigmoid(logits).dataSync() as Float32Array
  })
}

const makeTrainer = (data: TrainingData, s: TrainSettings): AnyTrainer =>
  s.model === 'vqvae' ? new VqTrainer(data, s) : new Trainer(data, s)

/** Trains every epoch of `settings` on the current backend; the batch losses in order. */
export async function trainEpochs(t: AnyTrainer, epochs: number): Promise<number[]> {
  const losses: number[] = []
  const onBatch = (p: BatchProgress): void => void losses.push(p.loss)
  for (let e = 0; e < epochs; e++) await t.trainEpoch(onBatch, () => false)
  return losses
}

interface Trained {
  losses: number[]
  weights: Float32Array[]
  names: string[]
  pixels: Float32Array
  seconds: number
}

async function trainOn(
  backend: BrowserBackendName,
  data: TrainingData,
  s: TrainSettings,
  start: Float32Array[] | null,
): Promise<Trained & { start: Float32Array[] }> {
  await useBackend(backend)
  const t = makeTrainer(data, s)
  try {
    const vars = trainedVariables(t)
    // The second backend starts from the first one's weights, whatever its initialisers give.
    if (start) vars.forEach((v, i) => v.assign(tf.tensor(start[i], v.shape, 'float32')))
    const initial = await readAll(vars)
    const began = performance.now()
    const epochs = t instanceof VqTrainer ? t.totalEpochs : s.epochs
    const losses = await trainEpochs(t, epochs)
    const seconds = (performance.now() - began) / 1000
    const weights = await readAll(vars)
    return {
      losses,
      weights,
      names: vars.map((v) => `${v.name} [${v.shape.join(', ')}]`),
      pixels: generatedPixels(t),
      seconds,
      start: initial,
    }
  } finally {
    t.dispose()
  }
}

/** Values read back asynchronously (dataSync on webgpu blocks, and is slow). */
const readAll = async (ts: tf.Tensor[]): Promise<Float32Array[]> =>
  Promise.all(ts.map(async (t) => Float32Array.from((await t.data()) as Float32Array)))

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** Trains `family` on `reference`, then on `target` from the same start, and compares. */
export async function checkFamily(
  family: ModelFamily,
  target: BrowserBackendName,
  reference: BrowserBackendName,
  data: TrainingData = syntheticData(),
): Promise<FamilyCheck> {
  const s = checkSettings(family, data)
  const ref = await trainOn(reference, data, s, null)
  const got = await trainOn(target, data, s, ref.start)
  let lossRelDiff = ref.losses.length === got.losses.length ? 0 : Infinity
  ref.losses.forEach((a, i) => {
    const b = got.losses[i]
    const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-6)
    lossRelDiff = Math.max(lossRelDiff, Number.isFinite(rel) ? rel : Infinity)
  })
  let weightAbsDiff = 0
  let weightScale = 0
  let worstVariable = ''
  ref.weights.forEach((w, i) => {
    const d = maxAbsDiff(w, got.weights[i])
    if (d > weightAbsDiff) {
      let k = 0
      for (let j = 0; j < w.length; j++) if (Math.abs(w[j] - got.weights[i][j]) === d) k = j
      worstVariable = `${ref.names[i]}, element ${k}: ${w[k]} against ${got.weights[i][k]}`
    }
    weightAbsDiff = Math.max(weightAbsDiff, d)
    for (const v of w) weightScale = Math.max(weightScale, Math.abs(v))
  })
  return {
    family,
    reference,
    target,
    referenceLosses: ref.losses,
    targetLosses: got.losses,
    lossRelDiff,
    learningRate: s.learningRate,
    weightAbsDiff,
    weightScale,
    worstVariable,
    pixelAbsDiff: maxAbsDiff(ref.pixels, got.pixels),
    referenceSeconds: ref.seconds,
    targetSeconds: got.seconds,
  }
}
