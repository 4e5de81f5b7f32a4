// Fréchet distance in the judge's feature space ("FID" with the bench's Fashion-MNIST judge in
// place of Inception): how far the raw samples' feature distribution is from real images', in
// mean and covariance. Lower is better; comparable only at the same sample counts and judge.
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { CLASS_NAMES } from '../../scripts/fashion-mnist.mjs'
import { cachedJudge } from './judge'
import { trainSplit } from './cases'

/** The judge's 128 penultimate activations (after ReLU) for 28x28 gray images. */
function features(clf: tfl.LayersModel, images: Uint8Array[]): Float64Array[] {
  const penultimate = clf.layers[clf.layers.length - 2]
  const f = tfl.model({ inputs: clf.inputs, outputs: penultimate.output as tfl.SymbolicTensor })
  const out: Float64Array[] = []
  for (let i = 0; i < images.length; i += 256) {
    const part = images.slice(i, i + 256)
    const flat = tf.tidy(() => {
      const x = new Float32Array(part.length * 784)
      part.forEach((im, j) => im.forEach((v, k) => (x[j * 784 + k] = v / 255)))
      return (f.predict(tf.tensor4d(x, [part.length, 28, 28, 1])) as tf.Tensor).dataSync()
    })
    const d = flat.length / part.length
    for (let j = 0; j < part.length; j++)
      out.push(Float64Array.from(flat.subarray(j * d, (j + 1) * d)))
  }
  return out
}

/** Eigenvalues and vectors of a symmetric matrix (cyclic Jacobi; columns of `vectors`). */
function symmetricEigen(
  m: Float64Array[],
  sweeps = 30,
): { values: number[]; vectors: Float64Array[] } {
  const n = m.length
  const a = m.map((r) => Float64Array.from(r))
  const v = Array.from({ length: n }, (_, i) => {
    const r = new Float64Array(n)
    r[i] = 1
    return r
  })
  for (let s = 0; s < sweeps; s++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] ** 2
    if (off < 1e-18) break
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const sn = t * c
        for (let k = 0; k < n; k++) {
          const akp = a[k][p]
          const akq = a[k][q]
          a[k][p] = c * akp - sn * akq
          a[k][q] = sn * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k]
          const aqk = a[q][k]
          a[p][k] = c * apk - sn * aqk
          a[q][k] = sn * apk + c * aqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p]
          const vkq = v[k][q]
          v[k][p] = c * vkp - sn * vkq
          v[k][q] = sn * vkp + c * vkq
        }
      }
  }
  return { values: a.map((r, i) => r[i]), vectors: v }
}

function meanAndCovariance(rows: Float64Array[]): { mean: Float64Array; cov: Float64Array[] } {
  const d = rows[0].length
  const mean = new Float64Array(d)
  for (const r of rows) for (let i = 0; i < d; i++) mean[i] += r[i] / rows.length
  const cov = Array.from({ length: d }, () => new Float64Array(d))
  for (const r of rows)
    for (let i = 0; i < d; i++) {
      const di = r[i] - mean[i]
      for (let j = i; j < d; j++) cov[i][j] += (di * (r[j] - mean[j])) / (rows.length - 1)
    }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i][j] = cov[j][i]
  return { mean, cov }
}

const matMul = (a: Float64Array[], b: Float64Array[]): Float64Array[] =>
  a.map((r) => {
    const out = new Float64Array(b[0].length)
    for (let k = 0; k < r.length; k++) {
      const x = r[k]
      if (x !== 0) for (let j = 0; j < out.length; j++) out[j] += x * b[k][j]
    }
    return out
  })

/**
 * |m1 - m2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with tr((S1 S2)^(1/2)) as the sum of the square
 * roots of the eigenvalues of S1^(1/2) S2 S1^(1/2) (symmetric, so Jacobi applies).
 */
export function frechetDistance(a: Float64Array[], b: Float64Array[]): number {
  const A = meanAndCovariance(a)
  const B = meanAndCovariance(b)
  const d = A.mean.length
  let meanTerm = 0
  for (let i = 0; i < d; i++) meanTerm += (A.mean[i] - B.mean[i]) ** 2
  const e = symmetricEigen(A.cov)
  const root = Array.from({ length: d }, () => new Float64Array(d))
  e.values.forEach((l, k) => {
    const s = Math.sqrt(Math.max(0, l))
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) root[i][j] += s * e.vectors[i][k] * e.vectors[j][k]
  })
  const m = matMul(matMul(root, B.cov), root)
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) m[i][j] = m[j][i] = (m[i][j] + m[j][i]) / 2
  const traceRoot = symmetricEigen(m).values.reduce((s, l) => s + Math.sqrt(Math.max(0, l)), 0)
  let trace = 0
  for (let i = 0; i < d; i++) trace += A.cov[i][i] + B.cov[i][i]
  return meanTerm + trace - 2 * traceRoot
}

/**
 * FID of images per class (Fashion-MNIST class names) against `perClass` real images of each of
 * those classes from the training split's start, in the main judge's features.
 */
export async function fashionFid(
  byClass: Map<string, Uint8Array[]>,
  perClass = 100,
): Promise<number> {
  const clf = await cachedJudge(trainSplit())
  const train = trainSplit()
  const want = new Map(
    [...byClass].map(([name, imgs]) => [
      CLASS_NAMES.indexOf(name),
      Math.min(perClass, imgs.length),
    ]),
  )
  const real: Uint8Array[] = []
  const have = new Map<number, number>()
  for (let i = 0; i < train.n; i++) {
    const c = train.label(i)
    if (!want.has(c) || (have.get(c) ?? 0) >= want.get(c)!) continue
    have.set(c, (have.get(c) ?? 0) + 1)
    real.push(train.pixels(i))
  }
  const fake = [...byClass.values()].flatMap((imgs) => imgs.slice(0, perClass))
  return frechetDistance(features(clf, fake), features(clf, real))
}
