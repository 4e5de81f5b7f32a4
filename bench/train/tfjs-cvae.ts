// Synthfold's default conv CVAE (balanced preset, at its batch size) on the best backend this
// machine loads: training images/s over full optimiser steps, generation samples/s, peak RSS, as JSON.
// SIZE and CHANNELS (default 28 and 1) pick the images; colour trains with the Gaussian likelihood
// unless RECONSTRUCTION says otherwise.
import { initBackend } from '../../src/core/accel/backend'
import { Trainer } from '../../src/core/training/trainer'
import { PRESETS, resolveSettings } from '../../src/shared/train-settings'
import * as tf from '@tensorflow/tfjs-core'

const steps = Number(process.argv[2] ?? 40)
const info = await initBackend((process.env.SYNTHFOLD_BACKEND as 'wasm') ?? 'auto')
// The preset's batch size unless BATCH says otherwise (run.mjs passes the same to PyTorch).
const B = Number(process.env.BATCH) || PRESETS.balanced.batchSize
// Both sides warm up for `warmup` steps (V8 compiles the step's JavaScript in tiers over the first
// ~20 batches; PyTorch gets the same number), then time `steps`.
const warmup = 20
const n = B * (steps + warmup)
const size = Number(process.env.SIZE) || 28
const channels = Number(process.env.CHANNELS) || 1
const data = {
  size,
  channels,
  classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
  pixels: Uint8Array.from({ length: n * size * size * channels }, () =>
    Math.floor(Math.random() * 256),
  ),
  labels: Int32Array.from({ length: n }, (_, i) => i % 10),
  ids: Int32Array.from({ length: n }, (_, i) => i + 1),
  count: n,
}
const settings = resolveSettings(
  {
    preset: 'balanced',
    batchSize: B,
    validationSplit: 0,
    classBalanced: false,
    // The CVAE itself, as in the PyTorch reference; default runs add the auxiliary classifier.
    classLossWeight: Number(process.env.CLASS_LOSS_WEIGHT ?? 0),
    epochs: 1,
    reconstruction: (process.env.RECONSTRUCTION ?? (channels >= 3 ? 'gaussian' : 'bce')) as 'bce',
  },
  { size, channels, imageCount: 20_000 },
)
const trainer = new Trainer(data, settings)
let t0 = 0
let t1 = 0
let timed = 0
// Optimiser steps only: from the end of the last warm-up batch to the end of the last one (the epoch's closing
// validation pass is not a training step, and the PyTorch loop has none).
await trainer.trainEpoch(
  (p) => {
    if (p.batch === warmup) t0 = performance.now()
    if (p.batch > warmup) {
      timed++
      t1 = performance.now()
    }
  },
  () => false,
)
const train = (timed * B) / ((t1 - t0) / 1000)

const z = tf.randomNormal([256, settings.latentDim])
const y = tf.cast(
  tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 256 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  ),
  'float32',
)
const decode = (): void =>
  tf.tidy(() => void tf.sigmoid(trainer.model.decoder.apply([z, y]) as tf.Tensor).dataSync())
for (let i = 0; i < 3; i++) decode()
const g0 = performance.now()
for (let i = 0; i < 20; i++) decode()
const gen = (20 * 256) / ((performance.now() - g0) / 1000)
console.log(
  JSON.stringify({
    trainImagesPerSecond: train,
    batchSize: B,
    latentDim: settings.latentDim,
    baseFilters: settings.baseFilters,
    reconstruction: settings.reconstruction,
    samplesPerSecond: gen,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    backend: info.backend,
    device: info.device,
    threads: info.threads,
  }),
)
