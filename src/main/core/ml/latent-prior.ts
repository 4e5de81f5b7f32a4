/**
 * The class-conditional prior fitted after training: per class, the mean of the latent codes and
 * their spread. Up to FULL_COVARIANCE_MAX dimensions the spread is a full covariance (stored as its
 * Cholesky factor), so samples follow the correlations the decoder was trained on; above that it is
 * a diagonal. Each covariance adds the average posterior variance to the spread of the means.
 */
export interface LatentStats {
  mean: number[][]
  std: number[][]
  /** Per class, the lower-triangular Cholesky factor (row-major, d x d), when d is small enough. */
  chol?: number[][]
}

export const FULL_COVARIANCE_MAX = 64

export class LatentAccumulator {
  private readonly count: number[]
  private readonly sum: Float64Array[]
  private readonly outer: Float64Array[] | null
  private readonly sq: Float64Array[]
  private readonly post: Float64Array[]

  constructor(
    private readonly classes: number,
    private readonly d: number,
  ) {
    this.count = new Array<number>(classes).fill(0)
    this.sum = Array.from({ length: classes }, () => new Float64Array(d))
    this.sq = Array.from({ length: classes }, () => new Float64Array(d))
    this.post = Array.from({ length: classes }, () => new Float64Array(d))
    this.outer =
      d <= FULL_COVARIANCE_MAX
        ? Array.from({ length: classes }, () => new Float64Array(d * d))
        : null
  }

  /** Adds one image's posterior mean and variance (each of length d) to its class. */
  add(c: number, mu: ArrayLike<number>, variance: ArrayLike<number>): void {
    const d = this.d
    this.count[c]++
    for (let k = 0; k < d; k++) {
      this.sum[c][k] += mu[k]
      this.sq[c][k] += mu[k] * mu[k]
      this.post[c][k] += variance[k]
    }
    const o = this.outer?.[c]
    if (o) for (let k = 0; k < d; k++) for (let l = 0; l <= k; l++) o[k * d + l] += mu[k] * mu[l]
  }

  finish(): LatentStats {
    const d = this.d
    const mean = this.sum.map((s, c) =>
      Array.from(s, (v) => (this.count[c] ? v / this.count[c] : 0)),
    )
    const std = this.sq.map((s, c) =>
      Array.from(s, (v, k) => {
        const n = this.count[c]
        if (!n) return 1
        return Math.sqrt(Math.max(1e-6, v / n - mean[c][k] ** 2 + this.post[c][k] / n))
      }),
    )
    if (!this.outer) return { mean, std }
    const chol = this.outer.map((o, c) => {
      const n = this.count[c]
      if (n < 2) return identity(d)
      const cov = new Float64Array(d * d)
      for (let k = 0; k < d; k++) {
        for (let l = 0; l <= k; l++) {
          const v =
            o[k * d + l] / n - mean[c][k] * mean[c][l] + (k === l ? this.post[c][k] / n + 1e-5 : 0)
          cov[k * d + l] = v
          cov[l * d + k] = v
        }
      }
      return cholesky(cov, d) ?? diagonal(std[c])
    })
    return { mean, std, chol }
  }
}

/** z = mean + temperature * L * eps, for one class (diagonal when there is no factor). */
export function latentSample(
  stats: LatentStats | undefined,
  c: number,
  eps: ArrayLike<number>,
  temperature: number,
  out: Float32Array,
): void {
  const d = out.length
  const mean = stats?.mean[c]
  const L = stats?.chol?.[c]
  for (let k = 0; k < d; k++) {
    let v = 0
    if (L) for (let l = 0; l <= k; l++) v += L[k * d + l] * eps[l]
    else v = (stats?.std[c][k] ?? 1) * eps[k]
    out[k] = (mean?.[k] ?? 0) + temperature * v
  }
}

function cholesky(a: Float64Array, d: number): number[] | null {
  const L = new Array<number>(d * d).fill(0)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k]
      if (i === j) {
        if (s <= 0) return null
        L[i * d + i] = Math.sqrt(s)
      } else L[i * d + j] = s / L[j * d + j]
    }
  }
  return L
}

const identity = (d: number): number[] =>
  Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0))
const diagonal = (std: number[]): number[] => {
  const d = std.length
  return Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? std[i / (d + 1)] : 0))
}
