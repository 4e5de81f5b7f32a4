import { describe, expect, it } from 'vitest'
import { runHints } from '../../src/shared/run-hints'
import type { EpochMetrics, RunSummary } from '../../src/shared/runs'
import { resolveSettings } from '../../src/shared/train-settings'

const settings = resolveSettings(
  { epochs: 10, latentDim: 16, klWarmupEpochs: 2 },
  { size: 28, channels: 1, imageCount: 5000 },
)
const run = (over: Partial<RunSummary> = {}): RunSummary => ({
  id: 1,
  datasetId: 1,
  status: 'running',
  settings,
  classNames: ['a'],
  backend: 'wasm',
  device: 'cpu',
  backendNotes: [],
  error: null,
  epochsDone: 0,
  bestValLoss: null,
  trainImages: 1,
  valImages: 1,
  createdAt: 0,
  startedAt: 0,
  finishedAt: null,
  checkpoints: [],
  lastMetrics: null,
  heldOutExcluded: true,
  ...over,
})
const epoch = (i: number, loss: number, val: number | null, activeUnits = 12): EpochMetrics => ({
  epoch: i,
  loss,
  reconstruction: loss - 5,
  kl: 5,
  valLoss: val,
  valReconstruction: val,
  valKl: 5,
  activeUnits,
  learningRate: 1e-3,
  imagesPerSecond: 500,
  seconds: 1,
})

describe('run health hints', () => {
  it('reports a healthy run', () => {
    const h = runHints(run(), [epoch(0, 300, 310), epoch(1, 280, 290)])
    expect(h).toEqual([expect.objectContaining({ level: 'ok', title: 'Training looks healthy' })])
  })

  it('spots posterior collapse once KL warm-up is over', () => {
    const early = runHints(run(), [epoch(0, 300, 310, 1)])
    expect(early.some((x) => x.title.includes('latent space'))).toBe(false)
    const h = runHints(
      run(),
      [0, 1, 2, 3].map((i) => epoch(i, 300 - i, 310 - i, 1)),
    )
    expect(h[0]).toMatchObject({
      level: 'warn',
      title: 'The model is ignoring most of its latent space',
    })
    expect(h[0].detail).toMatch(/Only 1 of 16/)
  })

  it('spots divergence and overfitting', () => {
    expect(runHints(run({ status: 'diverged' }), [])[0]).toMatchObject({
      level: 'error',
      title: 'Training blew up',
    })
    const over = [300, 290, 285, 284, 286, 288, 291].map((v, i) => epoch(i, 300 - i * 5, v))
    const h = runHints(run(), over)
    expect(h).toContainEqual(expect.objectContaining({ level: 'warn', title: 'Overfitting' }))
    expect(h.find((x) => x.title === 'Overfitting')!.detail).toMatch(/epoch 4/)
  })

  it('suggests more epochs when a finished run was still improving', () => {
    const e = Array.from({ length: 10 }, (_, i) => epoch(i, 300 - i * 3, 310 - i * 3))
    const h = runHints(run({ status: 'completed', epochsDone: 10 }), e)
    expect(h).toContainEqual(expect.objectContaining({ level: 'info', title: 'Still improving' }))
  })
})
