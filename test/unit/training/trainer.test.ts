import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import { initBackend } from '../../../src/core/accel/backend'
import { restoreTrainer, saveCheckpoint } from '../../../src/core/training/checkpoint'
import { type TrainingData } from '../../../src/core/training/data'
import { loadTrainingData } from '../../../src/core/training/data-load'
import { Generator } from '../../../src/core/generation/generator'
import { Trainer } from '../../../src/core/training/trainer'
import { setSimdKernelsEnabled } from '../../../src/core/accel/simd-module'
import { resolveSettings, type TrainSettings } from '../../../src/shared/train-settings'
import { importAndWait } from '../helpers/core'
import { tmp } from '../helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

describe('the CVAE trainer on the sample dataset', () => {
  let home: string
  let data: TrainingData
  const settings = (over: Partial<TrainSettings> = {}): TrainSettings =>
    resolveSettings(
      { preset: 'fast', epochs: 4, batchSize: 32, baseFilters: 8, ...over },
      { size: 28, channels: 1, imageCount: data.count },
    )

  beforeAll(async () => {
    home = tmp('trainer')
    const core = new Core({ home, shell: 'cli' })
    const { summary } = await importAndWait(core, { path: SAMPLE })
    data = loadTrainingData(core.db, home, summary!.datasetId, 'include')
    await core.close()
    await initBackend('wasm')
  })
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('learns: the loss falls, and the tensor count stays flat across steps', async () => {
    // the sample's default: the class loss judges shifted images (a differentiable augmentation)
    expect(settings().classAugmentShift).toBe(2)
    const t = new Trainer(data, settings())
    const counts: number[] = []
    const losses: number[] = []
    for (let e = 0; e < 4; e++) {
      const m = await t.trainEpoch(
        () => counts.push(tf.memory().numTensors),
        () => false,
      )
      losses.push(m!.loss)
      expect(m!.activeUnits).toBeGreaterThan(0)
    }
    // after the optimiser's first step has created its moments, nothing accumulates
    expect(new Set(counts.slice(1)).size).toBe(1)
    expect(losses[3]).toBeLessThan(losses[0] * 0.97)
    t.dispose()
  })

  it('reproduces a run from its seed on the same backend', async () => {
    const a = new Trainer(data, settings({ seed: 42 }))
    const b = new Trainer(data, settings({ seed: 42 }))
    const ma = await a.trainEpoch(
      () => {},
      () => false,
    )
    const mb = await b.trainEpoch(
      () => {},
      () => false,
    )
    expect(mb!.loss).toBe(ma!.loss)
    expect(mb!.valLoss).toBe(ma!.valLoss)
    a.dispose()
    b.dispose()
  })

  it('trains the same with the SIMD kernels as with the plain loops they replace', async () => {
    // The SIMD module changes how, not what: an epoch (class loss on, so the classifier and its
    // optimiser run too) ends with the same losses and weights to float rounding.
    const run = async (simd: boolean): Promise<{ loss: number; weights: Float32Array }> => {
      setSimdKernelsEnabled(simd)
      try {
        const t = new Trainer(data, settings({ seed: 7, classLossWeight: 40 }))
        const m = await t.trainEpoch(
          () => {},
          () => false,
        )
        const weights = Float32Array.from(
          t.model.decoder.getWeights().flatMap((w) => Array.from(w.dataSync())),
        )
        t.dispose()
        return { loss: m!.loss, weights }
      } finally {
        setSimdKernelsEnabled(true)
      }
    }
    const fast = await run(true)
    const plain = await run(false)
    expect(Math.abs(fast.loss - plain.loss)).toBeLessThan(1e-6 * Math.abs(plain.loss))
    let worst = 0
    plain.weights.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - fast.weights[i]))))
    expect(worst).toBeLessThan(1e-5)
  })

  it('resumes from a checkpoint exactly where training left off (weights and optimiser state)', async () => {
    const straight = new Trainer(data, settings({ seed: 7 }))
    await straight.trainEpoch(
      () => {},
      () => false,
    )
    const second = await straight.trainEpoch(
      () => {},
      () => false,
    )
    straight.dispose()

    const first = new Trainer(data, settings({ seed: 7 }))
    await first.trainEpoch(
      () => {},
      () => false,
    )
    const dir = join(home, 'ckpt')
    await saveCheckpoint(first, dir, null)
    first.dispose()
    const resumed = new Trainer(data, settings({ seed: 7 }))
    await restoreTrainer(resumed, dir)
    expect(resumed.epoch).toBe(1)
    const again = await resumed.trainEpoch(
      () => {},
      () => false,
    )
    expect(again!.loss).toBeCloseTo(second!.loss, 3)
    resumed.dispose()

    // the generator regenerates a sample exactly from its seed (provenance)
    const gen = Generator.load(dir)
    const s1 = gen.sample(3, 4, 0.8, 99)
    const s2 = gen.sample(3, 4, 0.8, 99)
    expect(s1.pixels).toHaveLength(4)
    expect(s1.pixels[0]).toHaveLength(28 * 28)
    expect(Buffer.from(s1.pixels[2]).equals(Buffer.from(s2.pixels[2]))).toBe(true)
    expect(Array.from(s1.latents[1])).toEqual(Array.from(s2.latents[1]))
    const rec = gen.reconstruct([data.pixels.subarray(0, 784)], [data.labels[0]])
    expect(rec[0]).toHaveLength(784)
    gen.dispose()
  })

  it('trains with batch norm on, and samples with the moving statistics it learnt', async () => {
    const t = new Trainer(data, settings({ batchNorm: true, seed: 5 }))
    const losses: number[] = []
    for (let e = 0; e < 3; e++) {
      const m = await t.trainEpoch(
        () => {},
        () => false,
      )
      losses.push(m!.loss)
    }
    expect(losses.every(Number.isFinite)).toBe(true)
    expect(losses[2]).toBeLessThan(losses[0])
    // the moving means moved away from their initial zeros during training
    const moving = t.model.decoder.weights.filter((w) => w.originalName.includes('moving_mean'))
    expect(moving.length).toBeGreaterThan(0)
    expect(tf.tidy(() => tf.max(tf.abs(moving[0].read())).dataSync()[0])).toBeGreaterThan(1e-3)
    const dir = join(home, 'ckpt-bn')
    await saveCheckpoint(t, dir, null)
    const gen = Generator.load(dir)
    const { pixels, latents } = gen.sample(2, 3, 1, 11)
    const direct = tf.tidy(() => {
      const z = tf.tensor2d(Array.from(latents, (l) => Array.from(l)))
      const y = tf.cast(
        tf.oneHot(tf.tensor1d([2, 2, 2], 'int32'), data.classNames.length),
        'float32',
      )
      const logits = t.model.decoder.apply([z, y], { training: false }) as tf.Tensor
      return tf.mul(tf.sigmoid(logits), 255).dataSync() as Float32Array
    })
    const diff = pixels.flatMap((p, j) =>
      Array.from(p, (v, k) => Math.abs(v - direct[j * 784 + k])),
    )
    expect(Math.max(...diff)).toBeLessThanOrEqual(1)
    gen.dispose()
    t.dispose()
  })

  it('trains on a dataset of a single class, and samples and encodes with it', async () => {
    // the largest class's images alone: the label input is one column (tf.oneHot refuses depth 1)
    const counts = data.classNames.map((_, c) => data.labels.filter((l) => l === c).length)
    const largest = counts.indexOf(Math.max(...counts))
    const keep = Array.from(data.labels.keys()).filter((i) => data.labels[i] === largest)
    const per = data.size * data.size * data.channels
    const one: TrainingData = {
      ...data,
      classNames: [data.classNames[largest]],
      count: keep.length,
      pixels: Uint8Array.from(
        keep.flatMap((i) => Array.from(data.pixels.subarray(i * per, (i + 1) * per))),
      ),
      labels: new Int32Array(keep.length),
      ids: Int32Array.from(keep, (i) => data.ids[i]),
    }
    expect(one.count).toBeGreaterThan(10)
    const t = new Trainer(one, settings({ classLossWeight: 20 }))
    const m = await t.trainEpoch(
      () => {},
      () => false,
    )
    expect(Number.isFinite(m!.loss)).toBe(true)
    const dir = join(home, 'ckpt-one-class')
    await saveCheckpoint(t, dir, null)
    const gen = Generator.load(dir)
    const { pixels } = gen.sample(0, 3, 1, 7)
    expect(pixels).toHaveLength(3)
    expect(pixels[0]).toHaveLength(per)
    const means = gen.encode([one.pixels.subarray(0, per)], [0])
    expect(means[0]).toHaveLength(t.settings.latentDim)
    expect(Array.from(means[0]).every(Number.isFinite)).toBe(true)
    gen.dispose()
    t.dispose()
  })

  it('computes the latent statistics once per state of the weights', async () => {
    const t = new Trainer(data, settings({ epochs: 2 }))
    const first = t.latentStats()
    expect(t.latentStats()).toBe(first) // the best and last checkpoints of an epoch share it
    expect(t.latentStats(64)).toBe(first) // a request for fewer images takes the full result
    await t.trainEpoch(
      () => {},
      () => false,
    )
    const after = t.latentStats(64)
    expect(after).not.toBe(first) // the weights moved
    expect(t.latentStats()).not.toBe(after) // more images than were fitted
    const dir = join(home, 'ckpt-latent-cache')
    await saveCheckpoint(t, dir, null)
    const cached = t.latentStats()
    await restoreTrainer(t, dir)
    const restored = t.latentStats()
    expect(restored).not.toBe(cached)
    expect(restored.mean).toEqual(cached.mean) // same weights, same fit
    // a cancel's checkpoint keeps the fit it has instead of a new pass
    await t.trainEpoch(
      () => {},
      () => false,
    )
    expect(t.latestLatentStats()).toBe(restored)
    t.dispose()
  })

  it('applies the class-loss augmentation: the same seed trains differently with it off', async () => {
    const epoch = async (shift: number): Promise<number> => {
      const t = new Trainer(data, settings({ classAugmentShift: shift }))
      const m = await t.trainEpoch(
        () => undefined,
        () => false,
      )
      t.dispose()
      return m!.loss
    }
    const off = await epoch(0)
    expect(await epoch(0)).toBe(off) // reproducible, so a difference is the augmentation's
    expect(await epoch(2)).not.toBe(off)
  })

  it('stops between batches when asked', async () => {
    const t = new Trainer(data, settings())
    let batches = 0
    const m = await t.trainEpoch(
      () => batches++,
      () => batches >= 2,
    )
    expect(m).toBeNull()
    expect(batches).toBe(2)
    expect(t.epoch).toBe(0)
    t.dispose()
  })
})
