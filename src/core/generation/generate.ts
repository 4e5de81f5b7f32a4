/**
 * A generation, inside the worker process: sample per-seed latents, decode, score, filter, write
 * PNGs and report rows; repeat per class until the plan's accepted count is met or the attempt
 * limit says the model cannot make more that pass the filters.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import BetterSqlite3 from 'better-sqlite3'
import type { BackendInfo } from '../../shared/backend'
import { splitIndices, type TrainingData } from '../training/data'
import { loadTrainingData } from '../training/data-load'
import { Generator } from './generator'
import type { FromTrainer, GenerateJob, GeneratedRow } from '../../shared/ml-protocol'
import { Scorer } from './scorer'
import { SecondOpinion } from './second-opinion'
import { calibrate } from './calibration'
import { generationRate, type EtaClass, type EtaObservation } from '../../shared/generation-eta'
import { applyTransform, drawTransform, pickSource } from '../augment/transforms'
import type { AugmentTransform } from '../../shared/generation'

const BATCH = 128
/** Per class, at most this many samples are tried per accepted one still wanted (plus a floor). */
const TRIES_PER_SAMPLE = 8
const MIN_TRIES = 64
/**
 * The independent classifiers: this many cross-fitted models, each trained for at least
 * SECOND_OPINION_STEPS optimiser steps (a small dataset needs many epochs to learn anything) and
 * at least SECOND_OPINION_EPOCHS epochs, within SECOND_OPINION_BUDGET_MS in all.
 */
const SECOND_OPINION_FOLDS = 4
const SECOND_OPINION_EPOCHS = 4
const SECOND_OPINION_STEPS = 300
const SECOND_OPINION_BUDGET_MS = 60_000

export async function runGeneration(
  job: GenerateJob,
  backend: BackendInfo,
  send: (m: FromTrainer) => void,
  shouldStop: () => boolean,
): Promise<void> {
  const gen = Generator.load(job.checkpointDir)
  const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
  let data: TrainingData
  try {
    // the filters' classifiers and calibration never see the evaluation split
    data = loadTrainingData(db, job.home, job.datasetId, 'exclude')
  } finally {
    db.close()
  }
  const { size, channels } = gen.meta.shape
  const names = gen.classNames
  const record = size * size * channels
  // The checkpoint's class order is the authority; real images are matched to it by name.
  const dataIndex = names.map((n) => data.classNames.indexOf(n))
  const realRows = names.map((_, c) => {
    const rows: number[] = []
    for (let i = 0; i < data.count; i++) if (data.labels[i] === dataIndex[c]) rows.push(i)
    return rows
  })
  const pixelsOf = (i: number) => data.pixels.subarray(i * record, (i + 1) * record)
  if (data.size !== size || data.channels !== channels)
    throw new Error(
      `The dataset was re-imported at ${data.size} px since this run trained at ${size} px; train a new run on it first.`,
    )
  const accuracy = classifierAccuracy(gen, data)
  const labels = Int32Array.from(data.labels, (l) => dataIndex.indexOf(l))
  const target = job.need.reduce((a, n) => a + n.count, 0)
  const plan: EtaClass[] = job.need.map(({ classIndex, count }) => ({
    classIndex,
    need: count,
    limit: triesFor(count),
  }))
  const preparing = (what: string): void =>
    send({
      type: 'gen-progress',
      phase: 'preparing',
      accepted: 0,
      target,
      generated: 0,
      filtered: 0,
      samplesPerSecond: 0,
      className: what,
      rate: generationRate(plan, []),
    })
  preparing('training the independent classifiers')
  const { opinion: second, heldOut } = await SecondOpinion.crossFit(data, labels, gen.meta.shape, {
    folds: SECOND_OPINION_FOLDS,
    epochs: SECOND_OPINION_EPOCHS,
    minSteps: SECOND_OPINION_STEPS,
    budgetMs: SECOND_OPINION_BUDGET_MS,
    seed: gen.meta.settings.seed + 7919,
    shouldStop,
    onProgress: (k, of) => preparing(`training the independent classifiers (${k} of ${of})`),
  })
  const calibration = calibrate(heldOut.own, heldOut.predicted, labels, names.length)
  if (job.filters.minConfidence !== 'auto') {
    const bar = job.filters.minConfidence
    for (const c of calibration) c.threshold = bar
  }
  send({ type: 'gen-started', backend, classifierAccuracy: accuracy, calibration })
  if (shouldStop()) {
    second.dispose()
    gen.dispose()
    return send({ type: 'gen-done', outcome: 'cancelled', shortfall: [] })
  }

  const scorer = new Scorer(
    (c) => realRows[c].map(pixelsOf),
    size,
    channels,
    job.filters,
    calibration.map((c) => c.threshold),
  )
  await rememberExisting(job, scorer, size, channels)
  let accepted = 0
  let generated = 0
  let filtered = 0
  let seed = job.seedStart
  const t0 = Date.now()
  const history: EtaObservation[] = []
  let batches = 0
  const shortfall: { classIndex: number; missing: number; tried: number }[] = []
  const augmented = new Map((job.augment ?? []).map((a) => [a.classIndex, a]))
  try {
    for (const { classIndex, count } of job.need) {
      let got = 0
      let tried = 0
      const limit = triesFor(count)
      const dir = join(job.outDir, String(classIndex))
      mkdirSync(dir, { recursive: true })
      const aug = augmented.get(classIndex)
      const reals = realRows[classIndex]
      if (aug && !reals.length) {
        // nothing to augment: the class has no real image in the dataset now
        shortfall.push({ classIndex, missing: count, tried: 0 })
        continue
      }
      while (got < count && tried < limit) {
        if (shouldStop()) return send({ type: 'gen-done', outcome: 'cancelled', shortfall })
        // Ask for enough to cover the expected losses to the filters, learned as we go.
        const rate = tried >= 32 ? Math.max(0.1, got / tried) : 0.7
        const n = Math.min(BATCH, limit - tried, Math.max(8, Math.ceil((count - got) / rate)))
        const seeds = Array.from({ length: n }, () => seed++)
        let latents: Float32Array[]
        let images: Uint8Array[]
        let sources: number[] | undefined
        let transforms: AugmentTransform[] | undefined
        if (aug) {
          // classic augmentation: each seed picks one of the class's real images and a transform
          sources = seeds.map((sd) => pickSource(sd, reals.length))
          transforms = seeds.map((sd) =>
            drawTransform(sd, { flip: aug.flip, colour: channels >= 3 }),
          )
          images = seeds.map((_, i) =>
            applyTransform(pixelsOf(reals[sources![i]]), size, channels, transforms![i]),
          )
          latents = seeds.map(() => new Float32Array(0))
        } else {
          latents = gen.latentsForSeeds(classIndex, seeds, job.temperature)
          images = gen.decode(latents, new Array<number>(n).fill(classIndex))
        }
        // The independent classifiers' verdict: the run's own classifier shaped the decoder, so
        // its opinion of a sample says more about what the decoder learned to please than about
        // the class (see second-opinion.ts).
        const conf = second.confidence(images, classIndex, gen.meta.shape)
        const scored = scorer.score(classIndex, names.length, images, conf, seeds, sources)
        const rows: GeneratedRow[] = []
        for (let i = 0; i < n; i++) {
          const s = scored[i]
          // Past the count, passing samples are not kept: the plan asked for exactly `count`.
          if (!s.reason && got >= count) continue
          const file = `${classIndex}/${seeds[i]}.png`
          await writePng(join(job.outDir, file), images[i], size, channels)
          if (!s.reason) got++
          else filtered++
          rows.push({
            classIndex,
            seed: seeds[i],
            latent: Array.from(latents[i]),
            file,
            confidence: s.confidence,
            novelty: s.novelty,
            nearestDistance: s.nearestDistance,
            nearestImageId:
              s.nearestReal >= 0 ? data.ids[realRows[classIndex][s.nearestReal]] : null,
            duplicateOfSeed: s.duplicateOf,
            reason: s.reason,
            ...(aug && {
              source: 'augment' as const,
              sourceImageId: data.ids[reals[sources![i]]],
              transform: transforms![i],
            }),
          })
        }
        tried += n
        generated += rows.length
        if (injectedKill(++batches)) process.kill(process.pid, 'SIGKILL')
        send({ type: 'gen-samples', rows })
        history.push({ t: (Date.now() - t0) / 1000, classIndex, got, tried })
        const progress = generationRate(plan, history)
        send({
          type: 'gen-progress',
          phase: 'generating',
          accepted: accepted + got,
          target,
          generated,
          filtered,
          samplesPerSecond: progress.acceptedPerSecond,
          className: names[classIndex],
          rate: progress,
        })
      }
      accepted += got
      if (got < count) shortfall.push({ classIndex, missing: count - got, tried })
    }
  } finally {
    scorer.dispose()
    second.dispose()
    gen.dispose()
  }
  send({ type: 'gen-done', outcome: 'completed', shortfall })
}

/** The most samples a class may try for `count` accepted ones. */
function triesFor(count: number): number {
  return Math.max(MIN_TRIES, count * TRIES_PER_SAMPLE)
}

/**
 * Fault injection for tests: SYNTHFOLD_FAULT=gen-kill@N kills this process once the PNGs of batch N
 * are written and before their rows are sent, the window a real kill most often lands in.
 */
function injectedKill(batch: number): boolean {
  const m = /^gen-kill@(\d+)$/.exec(process.env.SYNTHFOLD_FAULT ?? '')
  return m !== null && Number(m[1]) === batch
}

/** Accuracy of the run's classifier on the run's own held-out real images (its validation split). */
function classifierAccuracy(gen: Generator, data: TrainingData): number | null {
  const s = gen.meta.settings
  if (!gen.hasClassifier || data.classNames.join('\n') !== gen.classNames.join('\n')) return null
  const { val } = splitIndices(data.labels, s.validationSplit, s.seed)
  if (!val.length) return null
  const record = data.size * data.size * data.channels
  const probs = gen.classify(val.map((i) => data.pixels.subarray(i * record, (i + 1) * record)))
  let right = 0
  probs.forEach((p, j) => {
    let best = 0
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k
    if (best === data.labels[val[j]]) right++
  })
  return right / val.length
}

async function rememberExisting(
  job: GenerateJob,
  scorer: Scorer,
  size: number,
  channels: number,
): Promise<void> {
  const byClass = new Map<number, { seed: number; file: string }[]>()
  for (const e of job.existing) {
    const list = byClass.get(e.classIndex) ?? []
    list.push(e)
    byClass.set(e.classIndex, list)
  }
  for (const [c, list] of byClass) {
    const feats: Float32Array[] = []
    const seeds: number[] = []
    for (const e of list) {
      const px = await readPng(resolve(job.outDir, e.file), channels).catch(() => null)
      if (!px || px.length !== size * size * channels) continue
      feats.push(scorer.feature(px))
      seeds.push(e.seed)
    }
    scorer.remember(c, feats, seeds)
  }
}

export async function writePng(
  file: string,
  px: Uint8Array,
  size: number,
  channels: number,
): Promise<void> {
  await sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), {
    raw: { width: size, height: size, channels: channels as 1 | 3 | 4 },
  })
    .toColourspace(channels <= 2 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toFile(file)
}

export async function readPng(file: string, channels: number): Promise<Uint8Array> {
  let img = sharp(file)
  img =
    channels === 1
      ? img.toColourspace('b-w')
      : channels === 3
        ? img.removeAlpha()
        : img.ensureAlpha()
  const { data } = await img.raw().toBuffer({ resolveWithObject: true })
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
