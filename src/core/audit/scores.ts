import * as tf from '@tensorflow/tfjs-core'

/**
 * Scores of an audit, from two views of every image:
 *
 * - the class-conditional VAE: the negative ELBO of the image under each class label (the encoder
 *   and the decoder both take the label), so exp(-nll / T) is a likelihood per class and, with the
 *   class frequencies as prior, a posterior over classes. The run trained on most of these images
 *   with their labels as given, so on its own it is not out-of-sample;
 * - a leave-one-out k-nearest-neighbour vote in pixel space: every image is classified by the
 *   others only, the out-of-sample probabilities confident learning (Cleanlab) asks for.
 *
 * The label-error score is the normalised margin of confident learning: the best other class's
 * probability minus the given class's (higher: more likely mislabelled). The anomaly score is the
 * sum of robust z-scores of the negative ELBO, its KL term and the distance to the nearest images,
 * all at the image's best-fitting class. `bench/audit` measured the choices.
 */

export type ProbabilityMethod = 'cvae' | 'knn' | 'mean' | 'product'
export type AnomalyMethod = 'own' | 'best' | 'class-z' | 'combined'

export interface AuditMethod {
  probabilities: ProbabilityMethod
  /** The CVAE's share in 'mean' (the vote has the rest). */
  cvaeWeight: number
  /** Neighbours in the vote. */
  neighbours: number
  /** Classes per image the ELBO is computed under (its own and the vote's likeliest others). */
  candidates: number
  /** Divide by each class's mean self-confidence (perClassCalibrated). */
  calibrated: boolean
  anomaly: AnomalyMethod
}

/** What `bench/audit` found best (bench/README.md, "Audit"). */
export const DEFAULT_METHOD: AuditMethod = {
  probabilities: 'mean',
  cvaeWeight: 0.3,
  neighbours: 20,
  candidates: 4,
  calibrated: true,
  anomaly: 'combined',
}

/** How an audit names its method: `knn+calibrated/best`. */
export const methodName = (m: AuditMethod): string =>
  `${m.probabilities}${m.probabilities === 'mean' ? `(${m.cvaeWeight})` : ''}+knn${m.neighbours}${m.calibrated ? '+calibrated' : ''}/${m.anomaly}`

/** Neighbours in the vote. */
export const KNN_NEIGHBOURS = 10
/** Nearest images kept per class for each image (shown beside a suspect). */
export const NEAREST_PER_CLASS = 4

/**
 * Softmax over classes of -nll / T + log prior, with the temperature T that makes the given
 * labels most likely (most labels are right, so this calibrates the spread of the ELBO, which is
 * in hundreds of nats, to probabilities that can be averaged with the vote's).
 */
export function cvaeProbabilities(
  nll: Float32Array,
  labels: Int32Array,
  k: number,
): { probs: Float32Array; temperature: number } {
  const n = labels.length
  const prior = classPrior(labels, k)
  const at = (t: number, out?: Float32Array): number => {
    let ll = 0
    const row = new Float64Array(k)
    for (let i = 0; i < n; i++) {
      let max = -Infinity
      for (let c = 0; c < k; c++) {
        row[c] = -nll[i * k + c] / t + Math.log(prior[c])
        if (row[c] > max) max = row[c]
      }
      let sum = 0
      for (let c = 0; c < k; c++) sum += Math.exp(row[c] - max)
      if (labels[i] >= 0) ll += row[labels[i]] - max - Math.log(sum)
      if (out) for (let c = 0; c < k; c++) out[i * k + c] = Math.exp(row[c] - max) / sum
    }
    return ll
  }
  let best = 1
  let bestLl = -Infinity
  for (let e = -2; e <= 10; e += 0.25) {
    const t = 2 ** e
    const ll = at(t)
    if (ll > bestLl) {
      bestLl = ll
      best = t
    }
  }
  const probs = new Float32Array(n * k)
  at(best, probs)
  return { probs, temperature: best }
}

function classPrior(labels: Int32Array, k: number): Float64Array {
  const prior = new Float64Array(k).fill(1)
  for (const l of labels) if (l >= 0) prior[l]++
  const total = prior.reduce((a, b) => a + b, 0)
  return prior.map((p) => p / total)
}

/**
 * Leave-one-out k-NN over feature vectors (Euclidean, computed a block of queries at a time on the
 * tfjs backend): class probabilities from the `neighbours` nearest other images (votes smoothed
 * towards the class prior), and for every image its NEAREST_PER_CLASS nearest images of every
 * class (indices, -1 where a class has fewer), image i's class c list at (i * k + c) * NEAREST_PER_CLASS.
 */
export async function knnVote(
  features: Float32Array[],
  labels: Int32Array,
  k: number,
  o: { neighbours?: number; onProgress?: (done: number) => void; shouldStop?: () => boolean } = {},
): Promise<{ probs: Float32Array; nearest: Int32Array; nearestDistance: Float32Array } | null> {
  const n = features.length
  const m = Math.min(o.neighbours ?? KNN_NEIGHBOURS, Math.max(1, n - 1))
  const dim = features[0]?.length ?? 0
  const probs = new Float32Array(n * k)
  const nearest = new Int32Array(n * k * NEAREST_PER_CLASS).fill(-1)
  const nearestDistance = new Float32Array(n * k * NEAREST_PER_CLASS).fill(Infinity)
  if (!n) return { probs, nearest, nearestDistance }
  const prior = classPrior(labels, k)
  const flat = new Float32Array(n * dim)
  features.forEach((f, i) => flat.set(f, i * dim))
  const refs = tf.tensor2d(flat, [n, dim])
  const refSq = tf.tidy(() => tf.reshape(tf.sum(tf.square(refs), 1), [1, n]))
  const block = Math.max(1, Math.floor(4_000_000 / n))
  const topD = new Float32Array(m)
  const topI = new Int32Array(m)
  const per = NEAREST_PER_CLASS
  const classD = new Float32Array(k * per)
  try {
    for (let q0 = 0; q0 < n; q0 += block) {
      // lets queued messages (a cancel) in between blocks
      await new Promise((resolve) => setImmediate(resolve))
      if (o.shouldStop?.()) return null
      const rows = Math.min(block, n - q0)
      const d2 = tf.tidy(() => {
        const q = tf.slice(refs, [q0, 0], [rows, dim])
        const qsq = tf.reshape(tf.sum(tf.square(q), 1), [rows, 1])
        return tf.add(tf.sub(qsq, tf.mul(tf.matMul(q, refs, false, true), 2)), refSq)
      })
      const data = d2.dataSync() as Float32Array
      d2.dispose()
      for (let r = 0; r < rows; r++) {
        const i = q0 + r
        topD.fill(Infinity)
        topI.fill(-1)
        classD.fill(Infinity)
        const base = i * k * per
        for (let j = 0; j < n; j++) {
          if (j === i) continue
          const d = data[r * n + j]
          if (d < topD[m - 1]) {
            let p = m - 1
            while (p > 0 && topD[p - 1] > d) {
              topD[p] = topD[p - 1]
              topI[p] = topI[p - 1]
              p--
            }
            topD[p] = d
            topI[p] = j
          }
          const c = labels[j]
          if (c < 0 || d >= classD[c * per + per - 1]) continue
          let p = per - 1
          while (p > 0 && classD[c * per + p - 1] > d) {
            classD[c * per + p] = classD[c * per + p - 1]
            nearest[base + c * per + p] = nearest[base + c * per + p - 1]
            p--
          }
          classD[c * per + p] = d
          nearest[base + c * per + p] = j
        }
        for (let t = 0; t < k * per; t++)
          nearestDistance[base + t] = Math.sqrt(Math.max(0, classD[t]) / Math.max(1, dim))
        // votes plus one neighbour's worth spread by the prior, so no class is ever at 0
        let total = 1
        const votes = new Float64Array(k)
        for (let c = 0; c < k; c++) votes[c] = prior[c]
        for (let t = 0; t < m; t++) {
          if (topI[t] < 0 || labels[topI[t]] < 0) continue
          votes[labels[topI[t]]]++
          total++
        }
        for (let c = 0; c < k; c++) probs[i * k + c] = votes[c] / total
      }
      o.onProgress?.(q0 + rows)
    }
  } finally {
    refs.dispose()
    refSq.dispose()
  }
  return { probs, nearest, nearestDistance }
}

/** The class probabilities an audit reports: one view, their mean, or their normalised product. */
export function combineProbabilities(
  method: ProbabilityMethod,
  cvae: Float32Array,
  knn: Float32Array,
  k: number,
  cvaeWeight = 0.5,
): Float32Array {
  if (method === 'cvae') return cvae
  if (method === 'knn') return knn
  const out = new Float32Array(cvae.length)
  for (let i = 0; i < cvae.length; i += k) {
    let sum = 0
    for (let c = 0; c < k; c++) {
      const v =
        method === 'mean'
          ? cvaeWeight * cvae[i + c] + (1 - cvaeWeight) * knn[i + c]
          : cvae[i + c] * knn[i + c]
      out[i + c] = v
      sum += v
    }
    for (let c = 0; c < k; c++) out[i + c] = sum > 0 ? out[i + c] / sum : 1 / k
  }
  return out
}

/**
 * Confident learning's per-class thresholds: each class's probabilities divided by the mean
 * probability the images labelled with it get (its self-confidence), then renormalised. A class
 * the model is always unsure of (shirts among T-shirts) is not read as "mislabelled" everywhere,
 * and a large class does not pull every doubtful image its way.
 */
export function perClassCalibrated(
  probs: Float32Array,
  labels: Int32Array,
  k: number,
): Float32Array {
  const sum = new Float64Array(k)
  const count = new Float64Array(k)
  for (let i = 0; i < labels.length; i++)
    if (labels[i] >= 0) {
      sum[labels[i]] += probs[i * k + labels[i]]
      count[labels[i]]++
    }
  const t = Array.from(sum, (v, c) => (count[c] ? Math.max(v / count[c], 1e-3) : 1))
  const out = new Float32Array(probs.length)
  for (let i = 0; i < labels.length; i++) {
    let total = 0
    for (let c = 0; c < k; c++) total += out[i * k + c] = probs[i * k + c] / t[c]
    for (let c = 0; c < k; c++) out[i * k + c] /= total
  }
  return out
}

/** The most likely class of row i. */
export function suggestedClass(probs: ArrayLike<number>, i: number, k: number): number {
  let best = 0
  for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c
  return best
}

/**
 * Confident learning's normalised margin, turned so that higher is more suspicious: the best other
 * class's probability minus the given class's, in [-1, 1]. A label outside the run's classes (-1)
 * has probability 0.
 */
export function labelErrorScore(
  probs: ArrayLike<number>,
  i: number,
  k: number,
  label: number,
): number {
  let other = 0
  for (let c = 0; c < k; c++) if (c !== label && probs[i * k + c] > other) other = probs[i * k + c]
  return other - (label >= 0 ? probs[i * k + label] : 0)
}

/**
 * Anomaly score per image from the negative ELBO under each class: under its own label, under the
 * best-fitting label (an image of one class filed in another is a label error, not an outlier),
 * that standardised within the images of the same best class by median and MAD, or (`combined`)
 * the sum of three robust z-scores at the best class: the negative ELBO, its KL term alone (how
 * far from the prior the encoder has to put the image) and the mean distance to the image's
 * nearest images of that class. The ELBO alone ranks a dark, sparse image as likely whatever it
 * shows (likelihoods favour simple inputs); the KL and the neighbours do not.
 */
export function anomalyScores(
  nll: Float32Array,
  labels: Int32Array,
  k: number,
  method: AnomalyMethod,
  extra?: { kl: Float32Array; nearestDistance: Float32Array },
): Float32Array {
  const n = labels.length
  const out = new Float32Array(n)
  const bestOf = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let b = 0
    for (let c = 1; c < k; c++) if (nll[i * k + c] < nll[i * k + b]) b = c
    bestOf[i] = b
    out[i] = method === 'own' && labels[i] >= 0 ? nll[i * k + labels[i]] : nll[i * k + b]
  }
  if (method === 'combined') {
    if (!extra) throw new Error('the combined anomaly score needs the KL terms and distances')
    const per = NEAREST_PER_CLASS
    const kl = Float32Array.from(bestOf, (b, i) => extra.kl[i * k + b])
    const dist = Float32Array.from(bestOf, (b, i) => {
      let sum = 0
      let m = 0
      for (let t = 0; t < per; t++) {
        const d = extra.nearestDistance[(i * k + b) * per + t]
        if (Number.isFinite(d)) {
          sum += d
          m++
        }
      }
      return m ? sum / m : 0
    })
    const parts = [out.slice(), kl, dist].map((a) => {
      const r = robust(Array.from(a))
      return a.map((v) => (v - r.median) / r.scale)
    })
    for (let i = 0; i < n; i++) out[i] = parts[0][i] + parts[1][i] + parts[2][i]
    return out
  }
  if (method !== 'class-z') return out
  const groups = new Map<number, number[]>()
  for (let i = 0; i < n; i++) groups.set(bestOf[i], [...(groups.get(bestOf[i]) ?? []), i])
  const all = robust(Array.from(out))
  for (const idx of groups.values()) {
    // a class with few images has no spread of its own to trust: it borrows the dataset's
    const own = idx.length >= 8 ? robust(idx.map((i) => out[i])) : all
    for (const i of idx) out[i] = (out[i] - own.median) / own.scale
  }
  return out
}

function robust(values: number[]): { median: number; scale: number } {
  const med = median(values)
  const mad = median(values.map((v) => Math.abs(v - med)))
  return { median: med, scale: Math.max(mad * 1.4826, 1e-6) }
}

function median(values: number[]): number {
  if (!values.length) return 0
  const v = [...values].sort((a, b) => a - b)
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** Area under the ROC curve of `scores` for `positive` (ties count half): for tests and bench. */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[a] - scores[b],
  )
  let rankSum = 0
  let pos = 0
  for (let r = 0; r < idx.length;) {
    let e = r
    while (e + 1 < idx.length && scores[idx[e + 1]] === scores[idx[r]]) e++
    const rank = (r + e) / 2 + 1
    for (let t = r; t <= e; t++)
      if (positive[idx[t]]) {
        rankSum += rank
        pos++
      }
    r = e + 1
  }
  const neg = idx.length - pos
  if (!pos || !neg) return NaN
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg)
}
