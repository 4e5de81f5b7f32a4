import { describe, expect, it } from 'vitest'
import { compareSettings, runSummary } from '../../../src/renderer/src/composables/runCompare'
import { resolveSettings } from '../../../src/shared/train-settings'
import type { EpochMetrics, RunSummary } from '../../../src/shared/runs'

const data = { size: 28, channels: 1, imageCount: 356 }
const run = (id: number, over: Partial<RunSummary> = {}): RunSummary => ({
  id,
  datasetId: 1,
  status: 'completed',
  settings: resolveSettings({ preset: 'fast', epochs: 3 }, data),
  classNames: ['a', 'b'],
  backend: 'wasm',
  device: 'cpu',
  backendNotes: [],
  error: null,
  epochsDone: 3,
  bestValLoss: 250.5,
  trainImages: 320,
  valImages: 36,
  createdAt: 0,
  startedAt: 1_000,
  finishedAt: 76_000,
  checkpoints: [],
  lastMetrics: null,
  heldOutExcluded: true,
  ...over,
})
const metrics = (epoch: number, valLoss: number | null): EpochMetrics => ({
  epoch,
  loss: 300,
  reconstruction: 280,
  kl: 20,
  valLoss,
  valReconstruction: null,
  valKl: null,
  activeUnits: 8,
  learningRate: 0.005,
  imagesPerSecond: 100,
  seconds: 25,
})

describe('comparing two runs', () => {
  it('names settings with the labels of the training panel', () => {
    const b = run(2, { settings: resolveSettings({ preset: 'fast', epochs: 1, beta: 2 }, data) })
    const rows = compareSettings(run(1), b)
    expect(rows.find((r) => r.key === 'beta')).toEqual({
      key: 'beta',
      label: 'Beta (KL weight)',
      a: '1',
      b: '2',
      differs: true,
    })
    expect(rows.find((r) => r.key === 'latentDim')!.label).toBe('Latent size')
    expect(rows.find((r) => r.key === 'batchNorm')).toMatchObject({ a: 'off', differs: false })
  })

  it('sums each run up: final and best validation loss, epochs, time, classifier accuracy', () => {
    const s = runSummary(run(1), [metrics(0, 300), metrics(2, 262.25), metrics(1, 250.5)], 0.912)
    expect(s).toEqual({
      id: 1,
      finalValLoss: '262.3',
      bestValLoss: '250.5',
      epochs: '3 / 3',
      time: '1m 15s',
      classifierAccuracy: '91.2%',
    })
    const none = runSummary(run(2, { bestValLoss: null, startedAt: null }), [], null)
    expect(none).toMatchObject({ finalValLoss: '—', bestValLoss: '—', time: '—' })
    expect(none.classifierAccuracy).toBe('—')
  })
})

describe('comparing a CVAE run with a VQ-VAE run', () => {
  it('shows the family and the VQ-VAE’s own settings, and its epochs over both stages', () => {
    const vq = run(2, {
      settings: resolveSettings(
        { preset: 'fast', epochs: 3, model: 'vqvae', vqCodebookSize: 32, priorEpochs: 5 },
        data,
      ),
      epochsDone: 8,
    })
    const rows = compareSettings(run(1), vq)
    expect(rows.find((r) => r.key === 'model')).toMatchObject({
      label: 'Model family',
      a: 'cvae',
      b: 'vqvae',
      differs: true,
    })
    expect(rows.find((r) => r.key === 'vqCodebookSize')).toMatchObject({ a: '—', b: '32' })
    expect(runSummary(vq, [], null).epochs).toBe('8 / 8')
  })
})
