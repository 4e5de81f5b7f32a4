import BetterSqlite3 from 'better-sqlite3'
import type { BackendInfo } from '../../shared/backend'
import type { AuditJob, AuditRow, FromTrainer } from '../../shared/ml-protocol'
import { features } from '../generation/features'
import { Generator } from '../generation/generator'
import { type TrainingData } from '../training/data'
import { loadAuditData } from '../training/data-load'
import {
  anomalyScores,
  combineProbabilities,
  cvaeProbabilities,
  DEFAULT_METHOD,
  knnVote,
  methodName,
  NEAREST_PER_CLASS,
  perClassCalibrated,
  suggestedClass,
} from './scores'

/** Images scored per progress message. */
const CHUNK = 256

export interface AuditResult {
  rows: AuditRow[]
  method: string
  /** Each view's probabilities, for the bench to compare combinations. */
  views: {
    cvae: Float32Array
    knn: Float32Array
    nll: Float32Array
    kl: Float32Array
    nearestDistance: Float32Array
    temperature: number
  }
}

/**
 * An audit of every usable image of the dataset through a run's checkpoint, in the ML process.
 * The process reads the database; rows go back to main in messages.
 */
export async function runAudit(
  job: AuditJob,
  backend: BackendInfo,
  send: (m: FromTrainer) => void,
  shouldStop: () => boolean,
): Promise<void> {
  const gen = Generator.load(job.checkpointDir)
  try {
    const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
    let data: TrainingData
    try {
      data = loadAuditData(db, job.home, job.datasetId, gen.classNames)
    } finally {
      db.close()
    }
    send({ type: 'audit-started', backend, images: data.count, classNames: gen.classNames })
    const result = await auditImages(gen, data, {
      method: job.method,
      shouldStop,
      onProgress: (phase, done, of) => send({ type: 'audit-progress', phase, done, of }),
    })
    if (!result) return send({ type: 'audit-done', outcome: 'cancelled', method: '' })
    for (let i = 0; i < result.rows.length; i += 250)
      send({ type: 'audit-rows', rows: result.rows.slice(i, i + 250) })
    send({ type: 'audit-done', outcome: 'completed', method: result.method })
  } finally {
    gen.dispose()
  }
}

/**
 * Lets queued messages (a cancel) in: the scoring is synchronous tfjs work otherwise. Fault
 * injection for the cancel tests: SYNTHFOLD_FAULT=slow-audit@MS waits MS milliseconds here, so a
 * small dataset's audit is still running when the interrupt arrives.
 */
export const yieldToMessages = (): Promise<void> => {
  const slow = /^slow-audit@(\d+)$/.exec(process.env.SYNTHFOLD_FAULT ?? '')
  return new Promise((resolve) =>
    slow ? setTimeout(resolve, Number(slow[1])) : setImmediate(resolve),
  )
}

/**
 * The scores of every image of `data` (labels in the generator's class order): the negative
 * ELBO under each class, the leave-one-out vote, their combination, and the anomaly score.
 * Null when stopped.
 */
export async function auditImages(
  gen: Generator,
  data: TrainingData,
  o: {
    method?: AuditJob['method']
    shouldStop?: () => boolean
    onProgress?: (phase: 'scoring' | 'neighbours', done: number, of: number) => void
  } = {},
): Promise<AuditResult | null> {
  const method = o.method ?? DEFAULT_METHOD
  const k = gen.classNames.length
  const n = data.count
  const record = data.size * data.size * data.channels
  const images = Array.from({ length: n }, (_, i) =>
    data.pixels.subarray(i * record, (i + 1) * record),
  )
  // the vote first: its likeliest classes are the ones worth the model's time
  const feats = images.map((im) => features(im, data.size, data.channels))
  const vote = await knnVote(feats, data.labels, k, {
    neighbours: neighboursFor(data.labels, k, method.neighbours),
    shouldStop: o.shouldStop,
    onProgress: (done) => o.onProgress?.('neighbours', done, n),
  })
  if (!vote) return null
  const candidates = candidateClasses(vote.probs, data.labels, k, method.candidates)
  const latentDim = gen.meta.shape.latentDim
  const rec = new Float32Array(n * k).fill(Infinity)
  const kl = new Float32Array(n * k).fill(Infinity)
  const latents = new Float32Array(n * latentDim)
  for (let i = 0; i < n; i += CHUNK) {
    await yieldToMessages()
    if (o.shouldStop?.()) return null
    const pairs: number[] = []
    for (let j = i; j < Math.min(n, i + CHUNK); j++) for (const c of candidates[j]) pairs.push(j, c)
    const part = gen.scoreLabels(images, Int32Array.from(pairs))
    for (let p = 0; p < pairs.length / 2; p++) {
      const j = pairs[2 * p]
      const c = pairs[2 * p + 1]
      rec[j * k + c] = part.reconstruction[p]
      kl[j * k + c] = part.kl[p]
      if (c === data.labels[j])
        latents.set(part.latents.subarray(p * latentDim, (p + 1) * latentDim), j * latentDim)
    }
    o.onProgress?.('scoring', Math.min(n, i + CHUNK), n)
  }
  const nll = new Float32Array(n * k)
  const recon = reconstructionNll(gen.meta.settings.reconstruction, rec, data.labels, k, record)
  for (let j = 0; j < n * k; j++) nll[j] = recon[j] + kl[j]

  const cvae = cvaeProbabilities(nll, data.labels, k)
  const combined = combineProbabilities(
    method.probabilities,
    cvae.probs,
    vote.probs,
    k,
    method.cvaeWeight,
  )
  const probs = method.calibrated ? perClassCalibrated(combined, data.labels, k) : combined
  const anomaly = anomalyScores(nll, data.labels, k, method.anomaly, {
    kl,
    nearestDistance: vote.nearestDistance,
  })
  const rows: AuditRow[] = []
  for (let i = 0; i < n; i++) {
    const s = suggestedClass(probs, i, k)
    const base = (i * k + s) * NEAREST_PER_CLASS
    const nearest = Array.from(vote.nearest.subarray(base, base + NEAREST_PER_CLASS))
      .filter((j) => j >= 0)
      .map((j) => data.ids[j])
    const l = data.labels[i]
    rows.push({
      imageId: data.ids[i],
      labelIndex: l,
      reconstructionError: l >= 0 ? rec[i * k + l] : Math.min(...rec.subarray(i * k, i * k + k)),
      anomalyScore: anomaly[i],
      suggestedIndex: s,
      probs: Array.from(probs.subarray(i * k, (i + 1) * k)),
      nll: Array.from(nll.subarray(i * k, (i + 1) * k), (v) => (Number.isFinite(v) ? v : null)),
      latent: Array.from(latents.subarray(i * latentDim, (i + 1) * latentDim)),
      nearest,
    })
  }
  return {
    rows,
    method: methodName(method),
    views: {
      cvae: cvae.probs,
      knn: vote.probs,
      nll,
      kl,
      nearestDistance: vote.nearestDistance,
      temperature: cvae.temperature,
    },
  }
}

/**
 * Per image, the classes its ELBO is computed under: its own label and the vote's likeliest
 * others, `most` in all. A class the vote gives almost nothing is not where a mislabelled image
 * belongs; leaving it out saves most of the model's passes (all K classes cost K passes).
 */
export function candidateClasses(
  vote: Float32Array,
  labels: Int32Array,
  k: number,
  most: number,
): number[][] {
  return Array.from(labels, (l, i) => {
    const order = Array.from({ length: k }, (_, c) => c).sort(
      (a, b) => vote[i * k + b] - vote[i * k + a],
    )
    const out = l >= 0 ? [l] : []
    for (const c of order) if (out.length < Math.min(most, k) && !out.includes(c)) out.push(c)
    return out
  })
}

/**
 * The vote's size: at most `most`, and fewer than the smallest class has images (at least 5), so
 * the neighbours of a small class's image can still be mostly its own class.
 */
export function neighboursFor(labels: Int32Array, k: number, most: number): number {
  const counts = new Array<number>(k).fill(0)
  for (const l of labels) if (l >= 0) counts[l]++
  const smallest = Math.min(...counts.filter((c) => c > 0))
  return Math.max(5, Math.min(most, smallest - 1))
}

/**
 * The reconstruction term as a negative log-likelihood: BCE is one already; squared errors become
 * a Gaussian's with the variance that fits the dataset's images under their labels (as the
 * calibrated decoder of training does per batch), so they add to the KL on the same scale.
 */
function reconstructionNll(
  kind: 'bce' | 'mse' | 'gaussian',
  rec: Float32Array,
  labels: Int32Array,
  k: number,
  record: number,
): Float32Array {
  if (kind === 'bce') return rec
  let sum = 0
  let count = 0
  for (let i = 0; i < labels.length; i++)
    if (labels[i] >= 0) {
      sum += rec[i * k + labels[i]]
      count += record
    }
  const v = Math.max(count ? sum / count : 1, 1e-4)
  const c = (record / 2) * Math.log(2 * Math.PI * v)
  return rec.map((r) => r / (2 * v) + c)
}
