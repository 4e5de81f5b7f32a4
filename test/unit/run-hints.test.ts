import { describe, expect, it } from 'vitest'
import { runHints } from '../../src/shared/run-hints'
import type { EpochMetrics, RunSummary } from '../../src/shared/runs'
import { resolveSettings } from '../../src/shared/train-settings'
import type { RunForecast } from '../../src/shared/forecast'

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

/** A forecast of classes `a`, `b`, `c`: per class [passed of 64, held-out accuracy, held out]. */
const forecastOf = (
  rows: [passed: number, accuracy: number | null, heldOut: number][],
  classifierAccuracy: number | null,
  nearest: [sample: number, real: number | null][] = rows.map(() => [0.9, 0.9]),
): RunForecast => ({
  checkpoint: { kind: 'best', epoch: 10 },
  temperature: 1.6,
  classifierAccuracy,
  heldOut: rows.reduce((a, r) => a + r[2], 0),
  seconds: 1,
  classes: rows.map(([passed, heldOutAccuracy, heldOut], i) => ({
    className: 'abc'[i],
    tried: 64,
    passed,
    rejected: { 'near-copy': 0, 'low-confidence': 64 - passed, duplicate: 0 },
    nearestInClass: nearest[i][0],
    realNearestInClass: nearest[i][1],
    heldOut,
    heldOutAccuracy,
  })),
})
const finished = (forecast: RunForecast | null): RunSummary =>
  run({ status: 'completed', epochsDone: 10, classNames: ['a', 'b', 'c'], forecast })
/** Ten epochs whose validation loss has settled: no other hint. */
const settled = Array.from({ length: 10 }, (_, i) => epoch(i, 300 - i, i < 6 ? 310 - i : 304))

describe('run health with the classifier and the forecast', () => {
  it('is healthy, and says so with the classifier figure, when every class fills', () => {
    const h = runHints(
      finished(
        forecastOf(
          [
            [60, 0.95, 20],
            [50, 0.9, 20],
            [40, 0.92, 20],
          ],
          0.92,
        ),
      ),
      settled,
    )
    expect(h).toHaveLength(1)
    expect(h[0]).toMatchObject({ level: 'ok', title: 'Healthy run' })
    expect(h[0].detail).toMatch(/Classifier 92% on 60 held-out images/)
    expect(h[0].detail).toMatch(/every class should fill its plan \(lowest c, 63% /)
  })

  it('warns with the worst classes when the classifier is weak, never calling it healthy', () => {
    const h = runHints(
      finished(
        forecastOf(
          [
            [60, 0.95, 20],
            [50, 0.4, 5],
            [40, 0.6, 10],
          ],
          0.74,
        ),
      ),
      settled,
    )
    expect(h.map((x) => x.title)).not.toContain('Healthy run')
    const w = h.find((x) => x.title === 'Classifier 74% on held-out images')!
    expect(w.level).toBe('warn')
    expect(w.detail).toMatch(/74% of 35 held-out real images/)
    expect(w.detail).toMatch(/worst: b 40% of 5, c 60% of 10/)
    expect(w.detail).toMatch(/reject many samples of b, c/)
  })

  it('names the classes that will not fill, from the pass rate and the nearest-image test', () => {
    const f = forecastOf(
      [
        [60, 0.95, 20],
        [8, 0.9, 20],
        [60, 0.9, 20],
      ],
      0.9,
      [
        [0.9, 0.9],
        [0.9, 0.9],
        // passes the run's classifier, but its samples sit among other classes' images
        [0.1, 0.8],
      ],
    )
    const h = runHints(finished(f), settled)
    expect(h[0]).toMatchObject({
      level: 'warn',
      title: 'The generator has not learned 2 classes well enough',
    })
    expect(h[0].detail).toMatch(/c 12%, b 13%/)
    expect(h[0].detail).toMatch(/classic augmentation/)
    expect(h.some((x) => x.level === 'ok')).toBe(false)
  })

  it('keeps the forecast summary beside other hints, and says nothing without one', () => {
    const e = Array.from({ length: 10 }, (_, i) => epoch(i, 300 - i * 3, 310 - i * 3))
    const f = forecastOf(
      [
        [60, 0.95, 20],
        [50, 0.9, 20],
        [40, 0.92, 20],
      ],
      0.92,
    )
    const h = runHints(finished(f), e)
    expect(h.map((x) => x.title)).toEqual(['Still improving', 'Every class should fill'])
    const none = runHints(finished(null), settled)
    expect(none).toEqual([
      expect.objectContaining({
        title: 'Healthy run',
        detail: expect.not.stringMatching(/Classifier/),
      }),
    ])
  })
})

describe('a VQ-VAE run’s hints', () => {
  const vqRun = run({ settings: { ...settings, model: 'vqvae', vqCodebookSize: 64, epochs: 4 } })
  const stage1 = (i: number, used: number): EpochMetrics => ({
    ...epoch(i, 300 - i, 310 - i),
    stage: 'vq',
    usedCodes: used,
    activeUnits: used,
    perplexity: used / 2,
  })
  const stage2 = (i: number, loss: number, val: number): EpochMetrics => ({
    ...epoch(i, loss, val),
    stage: 'prior',
  })

  it('names codebook collapse where a CVAE names posterior collapse', () => {
    const h = runHints(
      vqRun,
      [0, 1, 2, 3].map((i) => stage1(i, 3)),
    )
    expect(h[0]).toMatchObject({ level: 'warn', title: 'The codebook has collapsed' })
    expect(h[0].detail).toContain('Only 3 of 64 codes are in use')
    const healthy = runHints(
      vqRun,
      [0, 1, 2, 3].map((i) => stage1(i, 50)),
    )
    expect(healthy).toEqual([
      expect.objectContaining({
        level: 'ok',
        detail: expect.stringContaining('50 of 64 codes in use'),
      }),
    ])
  })

  it('reads the prior’s loss curve apart from the autoencoder’s', () => {
    // the prior's nats per code are far below stage 1's nats per image: no false "overfitting"
    const epochs = [
      ...[0, 1, 2, 3].map((i) => stage1(i, 50)),
      stage2(4, 3.5, 3.4),
      stage2(5, 3.0, 3.1),
      stage2(6, 2.6, 2.9),
      stage2(7, 2.2, 2.8),
    ]
    expect(runHints(vqRun, epochs).some((x) => x.title === 'Overfitting')).toBe(false)
    // and a prior that memorises is named, with its best epoch
    const over = [...epochs, stage2(8, 1.9, 3.0), stage2(9, 1.6, 3.2), stage2(10, 1.3, 3.4)]
    const h = runHints(vqRun, over).find((x) => x.title === 'Overfitting')!
    expect(h.detail).toContain('The best checkpoint (epoch 8)')
  })
})
