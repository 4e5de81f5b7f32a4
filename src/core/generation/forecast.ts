/**
 * The per-class forecast of a finished run (shared/forecast.ts): a quick look, in the training
 * process, at what a default generation from the run would give, so the run page can say before
 * anything is generated which classes will not fill.
 */
import type { ClassForecast, RunForecast } from '../../shared/forecast'
import { DEFAULT_FILTERS, DEFAULT_TEMPERATURE, type FilterReason } from '../../shared/generation'
import type { TrainingData } from '../training/data'
import { rng, shuffle } from '../util/random'
import { calibrate } from './calibration'
import { features, NearestIndex } from './features'
import type { Generator } from './generator'
import { Scorer } from './scorer'

/** Samples decoded per class: enough to tell 10% from 50%, a second or two at 28 px. */
export const FORECAST_SAMPLES = 64
/** Real images per class in the nearest-neighbour reference set, and per class asked about themselves. */
const REFERENCE_PER_CLASS = 1000
const REAL_QUERIES_PER_CLASS = 64
/** Forecast seeds sit far above a generation's (which start at 1): the two never share a sample. */
const SEED_BASE = 1_500_000_000

/**
 * Decodes FORECAST_SAMPLES per class from the checkpoint's prior at the default temperature and
 * scores them as a default generation would (near-copy, class test, duplicate), the class test
 * judged by the run's own classifier against bars calibrated, by the generation's rule, on the
 * run's validation images; and asks of each sample whether its nearest real image is of its class.
 * `val` are the run's validation images (indices into `data`, whose classes are the checkpoint's).
 */
export function forecastRun(
  gen: Generator,
  data: TrainingData,
  val: number[],
  checkpoint: RunForecast['checkpoint'],
): RunForecast {
  const t0 = Date.now()
  const { size, channels } = gen.meta.shape
  const names = gen.classNames
  const k = names.length
  const record = size * size * channels
  const pixelsOf = (i: number) => data.pixels.subarray(i * record, (i + 1) * record)
  const judged = gen.hasClassifier && gen.meta.settings.classLossWeight > 0

  // The run's classifier on its held-out images: accuracy per class, and the class-test bars.
  const own = new Float32Array(data.count).fill(NaN)
  const predicted = new Int32Array(data.count).fill(-1)
  if (judged && val.length) {
    const probs = gen.classify(val.map(pixelsOf))
    val.forEach((i, j) => {
      const p = probs[j]
      own[i] = p[data.labels[i]]
      let best = 0
      for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c
      predicted[i] = best
    })
  }
  const bars = calibrate(own, predicted, data.labels, k)

  const byClass = Array.from({ length: k }, () => [] as number[])
  for (let i = 0; i < data.count; i++) byClass[data.labels[i]]?.push(i)
  const scorer = new Scorer(
    (c) => byClass[c].map(pixelsOf),
    size,
    channels,
    DEFAULT_FILTERS,
    bars.map((b) => b.threshold),
  )
  // Nearest neighbours over real images of every class (a seeded subset of the big classes).
  const rand = rng(gen.meta.settings.seed + 31)
  const refs = byClass.flatMap((rows) => shuffle([...rows], rand).slice(0, REFERENCE_PER_CLASS))
  const refLabels = refs.map((i) => data.labels[i])
  const refFeats = refs.map((i) => features(pixelsOf(i), size, channels))
  const index = new NearestIndex(refFeats, refFeats[0]?.length ?? 1)
  const refPos = new Map(refs.map((img, p) => [img, p]))

  const classes: ClassForecast[] = []
  try {
    for (let c = 0; c < k; c++) {
      const seeds = Array.from({ length: FORECAST_SAMPLES }, (_, i) => SEED_BASE + c * 10_000 + i)
      const latents = gen.latentsForSeeds(c, seeds, DEFAULT_TEMPERATURE)
      const images = gen.decode(latents, new Array<number>(seeds.length).fill(c))
      const conf = judged ? gen.classify(images).map((p) => p[c]) : images.map(() => 1)
      const scored = scorer.score(c, k, images, conf, seeds)
      const rejected: Record<FilterReason, number> = {
        'near-copy': 0,
        'low-confidence': 0,
        duplicate: 0,
      }
      for (const s of scored) if (s.reason) rejected[s.reason]++
      const near = index.nearest(images.map((im) => features(im, size, channels)))
      let inClass = 0
      for (const j of near.index) if (j >= 0 && refLabels[j] === c) inClass++
      const queries = byClass[c].filter((i) => refPos.has(i)).slice(0, REAL_QUERIES_PER_CLASS)
      let realIn = 0
      if (queries.length && refs.length > 1) {
        const nn = index.nearest(
          queries.map((i) => refFeats[refPos.get(i)!]),
          (q) => refPos.get(queries[q])!,
        )
        for (const j of nn.index) if (j >= 0 && refLabels[j] === c) realIn++
      }
      classes.push({
        className: names[c],
        tried: seeds.length,
        passed: scored.filter((s) => !s.reason).length,
        rejected,
        nearestInClass: inClass / seeds.length,
        realNearestInClass: queries.length >= 2 ? realIn / queries.length : null,
        heldOut: judged ? bars[c].heldOut : 0,
        heldOutAccuracy: judged ? bars[c].heldOutAccuracy : null,
      })
    }
  } finally {
    scorer.dispose()
    index.dispose()
  }
  const heldOut = judged ? val.length : 0
  const right = val.filter((i) => predicted[i] === data.labels[i]).length
  return {
    checkpoint,
    temperature: DEFAULT_TEMPERATURE,
    classifierAccuracy: heldOut ? right / heldOut : null,
    heldOut,
    classes,
    seconds: (Date.now() - t0) / 1000,
  }
}
