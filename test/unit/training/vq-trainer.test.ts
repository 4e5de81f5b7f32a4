import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import { initBackend } from '../../../src/core/accel/backend'
import { restoreTrainer, saveCheckpoint } from '../../../src/core/training/checkpoint'
import { type TrainingData } from '../../../src/core/training/data'
import { loadTrainingData } from '../../../src/core/training/data-load'
import { Generator, VqGenerator } from '../../../src/core/generation/generator'
import { VqTrainer } from '../../../src/core/training/vq-trainer'
import { resolveSettings, type TrainSettings } from '../../../src/shared/train-settings'
import type { EpochMetrics } from '../../../src/shared/runs'
import { importAndWait } from '../helpers/core'
import { tmp } from '../helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

describe('the VQ-VAE trainer on the sample dataset', () => {
  let home: string
  let data: TrainingData
  const settings = (over: Partial<TrainSettings> = {}): TrainSettings =>
    resolveSettings(
      {
        preset: 'fast',
        model: 'vqvae',
        epochs: 2,
        priorEpochs: 2,
        batchSize: 32,
        baseFilters: 8,
        vqCodebookSize: 32,
        vqCodeDim: 8,
        seed: 5,
        ...over,
      },
      { size: 28, channels: 1, imageCount: data.count },
    )
  const epoch = (t: VqTrainer, counts?: number[]): Promise<EpochMetrics | null> =>
    t.trainEpoch(
      () => counts?.push(tf.memory().numTensors),
      () => false,
    )

  beforeAll(async () => {
    home = tmp('vq-trainer')
    const core = new Core({ home, shell: 'cli' })
    const { summary } = await importAndWait(core, { path: SAMPLE })
    data = loadTrainingData(core.db, home, summary!.datasetId, 'include')
    await core.close()
    await initBackend('wasm')
  })
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('trains its two stages, resumes in either exactly, and samples the same pixels from a seed', async () => {
    const straight = new VqTrainer(data, settings())
    const counts: number[] = []
    const metrics: EpochMetrics[] = []
    for (let e = 0; e < 4; e++) metrics.push((await epoch(straight, e === 1 ? counts : undefined))!)
    straight.dispose()
    expect(metrics.map((m) => m.stage)).toEqual(['vq', 'vq', 'prior', 'prior'])
    // stage 1 uses the codebook (dead codes restart), stage 2's loss is the prior's, in nats per code
    expect(metrics[1].usedCodes).toBeGreaterThan(4)
    expect(metrics[1].perplexity).toBeGreaterThan(2)
    expect(metrics[0].restartedCodes).toBeGreaterThan(0)
    expect(metrics[3].loss).toBeLessThan(Math.log(32))
    expect(metrics[3].loss).toBeLessThan(metrics[2].loss)
    expect(metrics[3].reconstruction).toBe(metrics[2].reconstruction)
    // nothing accumulates from step to step
    expect(new Set(counts).size).toBe(1)

    // interrupted mid-stage-1 and mid-stage-2, it ends where the straight run did
    const dir = join(home, 'ckpt')
    let t = new VqTrainer(data, settings())
    await epoch(t)
    await saveCheckpoint(t, dir, null)
    t.dispose()
    for (const at of [1, 3]) {
      t = new VqTrainer(data, settings())
      await restoreTrainer(t, dir)
      expect(t.epoch).toBe(at)
      const m = (await epoch(t))!
      expect(m.stage).toBe(metrics[at].stage)
      expect(m.loss).toBeCloseTo(metrics[at].loss, 4)
      if (at === 1) await epoch(t)
      await saveCheckpoint(t, dir, null)
      t.dispose()
    }

    const gen = Generator.load(dir)
    expect(gen).toBeInstanceOf(VqGenerator)
    const a = gen.sample(3, 4, 1, 99)
    const b = gen.sample(3, 4, 1, 99)
    expect(a.pixels[0]).toHaveLength(28 * 28)
    expect(a.latents[0]).toHaveLength(49)
    a.pixels.forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(b.pixels[i]))).toBe(true))
    // the latent is the code grid: it decodes to the same pixels, and one seed alone draws it again
    const seeds = [11, 12, 13]
    const grids = gen.latentsForSeeds(2, seeds, 1)
    expect(Array.from(gen.latentsForSeeds(2, [12], 1)[0])).toEqual(Array.from(grids[1]))
    const decoded = gen.decode(grids, [2, 2, 2])
    const single = gen.decode([grids[1]], [2])
    expect(Buffer.from(single[0]).equals(Buffer.from(decoded[1]))).toBe(true)
    // draws differ between seeds (the prior is sampled, not a constant)
    expect(Array.from(grids[0])).not.toEqual(Array.from(grids[2]))
    // reconstructions go through the codes
    const rec = gen.reconstruct([data.pixels.subarray(0, 784)], [data.labels[0]])
    expect(rec[0]).toHaveLength(784)
    gen.dispose()
  }, 120_000)

  it('moves the codebook by its loss when EMA updates are off', async () => {
    const t = new VqTrainer(data, settings({ vqEma: false }))
    const before = t.quantizer.codebook.dataSync().slice()
    const m = (await epoch(t))!
    expect(Number.isFinite(m.loss)).toBe(true)
    expect(m.usedCodes).toBeGreaterThan(4)
    const after = t.quantizer.codebook.dataSync()
    expect(after.some((v, i) => v !== before[i])).toBe(true)
    t.dispose()
  })

  it('refuses to sample from a checkpoint saved before the prior trained', async () => {
    const t = new VqTrainer(data, settings({ epochs: 1 }))
    await epoch(t)
    const dir = join(home, 'stage1')
    await saveCheckpoint(t, dir, null)
    t.dispose()
    expect(() => Generator.load(dir)).toThrow(/before its prior trained/)
  })
})
