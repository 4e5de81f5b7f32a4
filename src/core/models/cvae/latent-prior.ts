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

/**
 * Fits each class's prior on its typical images: those the run's classifier assigns to their own
 * class. Ambiguous images (a shirt the classifier takes for a T-shirt) stay out of the fit, so
 * samples come from where the class is unmistakable, at almost no cost in diversity
 * (bench/README.md). A class with too few recognised images (under a quarter of them, or under
 * 2) keeps the fit on all of its images.
 */
export class TypicalLatentAccumulator {
  private readonly all: LatentAccumulator
  private readonly typical: LatentAccumulator
  private readonly total: number[]
  private readonly recognised: number[]

  constructor(classes: number, d: number) {
    this.all = new LatentAccumulator(classes, d)
    this.typical = new LatentAccumulator(classes, d)
    this.total = new Array<number>(classes).fill(0)
    this.recognised = new Array<number>(classes).fill(0)
  }

  add(c: number, mu: ArrayLike<number>, variance: ArrayLike<number>, recognised: boolean): void {
    this.all.add(c, mu, variance)
    this.total[c]++
    if (!recognised) return
    this.typical.add(c, mu, variance)
    this.recognised[c]++
  }

  /** Per class, the share of its images that the fit used. */
  get shares(): number[] {
    return this.total.map((n, c) => (n && this.useTypical(c) ? this.recognised[c] / n : 1))
  }

  private useTypical(c: number): boolean {
    return this.recognised[c] >= Math.max(2, 0.25 * this.total[c])
  }

  finish(): LatentStats {
    const all = this.all.finish()
    const typical = this.typical.finish()
    const pick = <T>(a: T[], b: T[]): T[] => a.map((v, c) => (this.useTypical(c) ? b[c] : v))
    return {
      mean: pick(all.mean, typical.mean),
      std: pick(all.std, typical.std),
      ...(all.chol && typical.chol ? { chol: pick(all.chol, typical.chol) } : {}),
    }
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
