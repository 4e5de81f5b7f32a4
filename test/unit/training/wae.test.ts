import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import { initBackend } from '../../../src/core/accel/backend'
import { restoreTrainer, saveCheckpoint } from '../../../src/core/training/checkpoint'
import { type TrainingData } from '../../../src/core/training/data'
import { loadTrainingData } from '../../../src/core/training/data-load'
import { Generator } from '../../../src/core/generation/generator'
import { Trainer } from '../../../src/core/training/trainer'
import { resolveSettings, type TrainSettings } from '../../../src/shared/train-settings'
import type { GenerationSummary } from '../../../src/shared/generation'
import { importAndWait, ok, trainAndWait } from '../helpers/core'
import { tmp } from '../helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

describe('the WAE family on the sample dataset', () => {
  let home: string
  let core: Core
  let datasetId = 0
  let data: TrainingData
  const settings = (over: Partial<TrainSettings> = {}): TrainSettings =>
    resolveSettings(
      { preset: 'fast', epochs: 4, batchSize: 32, baseFilters: 8, model: 'wae', ...over },
      { size: 28, channels: 1, imageCount: data.count },
    )

  beforeAll(async () => {
    home = tmp('wae')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    data = loadTrainingData(core.db, home, datasetId, 'exclude')
    await initBackend('wasm')
  })
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('trains with the MMD in place of the KL, and resumes from a checkpoint exactly', async () => {
    const straight = new Trainer(data, settings({ seed: 9 }))
    expect(straight.family).toBe('wae')
    const first = await straight.trainEpoch(
      () => {},
      () => false,
    )
    const second = await straight.trainEpoch(
      () => {},
      () => false,
    )
    straight.dispose()
    expect(second!.loss).toBeLessThan(first!.loss)
    // the divergence column holds the MMD: small and finite, not a KL of tens of nats
    expect(Number.isFinite(second!.kl)).toBe(true)
    expect(Math.abs(second!.kl)).toBeLessThan(2)
    expect(second!.valKl).not.toBeNull()

    const a = new Trainer(data, settings({ seed: 9 }))
    await a.trainEpoch(
      () => {},
      () => false,
    )
    const dir = join(home, 'ckpt-wae')
    await saveCheckpoint(a, dir, null)
    a.dispose()
    const resumed = new Trainer(data, settings({ seed: 9 }))
    await restoreTrainer(resumed, dir)
    const again = await resumed.trainEpoch(
      () => {},
      () => false,
    )
    expect(again!.loss).toBeCloseTo(second!.loss, 3)
    resumed.dispose()

    // deterministic codes: the fitted prior's spread is that of the codes alone
    const gen = Generator.load(dir)
    expect(gen.meta.settings.model).toBe('wae')
    const s1 = gen.sample(2, 3, 0.8, 5)
    const s2 = gen.sample(2, 3, 0.8, 5)
    expect(Buffer.from(s1.pixels[1]).equals(Buffer.from(s2.pixels[1]))).toBe(true)
    gen.dispose()
  })

  it('runs through the app: a WAE run, then generation through the filters', async () => {
    const runId = await trainAndWait(core, datasetId, {
      preset: 'fast',
      model: 'wae',
      epochs: 12,
      batchSize: 32,
      baseFilters: 16,
    })
    const { run } = await ok(core.call('runs.get', { runId }))
    expect(run.status).toBe('completed')
    expect(run.settings.model).toBe('wae')
    let id = 0
    const done = new Promise<GenerationSummary>((resolve) => {
      const off = core.on('generation', (e) => {
        if (e.type === 'status' && e.generation.id === id && e.generation.status !== 'running') {
          off()
          resolve(e.generation)
        }
      })
    })
    id = (
      await ok(
        core.call('generations.start', {
          runId,
          maxRatio: 1,
          temperature: 0.8,
          filters: { minConfidence: 0.05, duplicate: 0.25, nearCopy: 0.5 },
        }),
      )
    ).id
    const gen = await done
    expect(gen.status).toBe('completed')
    const generated = gen.classes.reduce((a, c) => a + c.generated, 0)
    const accepted = gen.classes.reduce((a, c) => a + c.accepted, 0)
    expect(generated).toBeGreaterThan(0)
    expect(accepted).toBeGreaterThan(0)
    // each sample regenerates from its stored seed and latent
    const list = await ok(core.call('samples.list', { generationId: gen.id, limit: 5 }))
    expect(list.items.length).toBeGreaterThan(0)
  }, 240_000)
})
