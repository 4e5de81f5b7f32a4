// Synthfold's default conv CVAE (setup.ts) on the best backend this machine loads: training
// images/s over full optimiser steps, generation samples/s, peak RSS, as JSON.
import { benchModel, WARMUP as warmup } from './setup'
import * as tf from '@tensorflow/tfjs-core'

const steps = Number(process.argv[2] ?? 40)
const { trainer, settings, info, batchSize: B, simdPath } = await benchModel(steps)
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
    simdPath,
  }),
)
