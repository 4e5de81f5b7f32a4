/**
 * Paths through a continuous latent space: interpolation between two codes (with the class label
 * moving along when the ends are of different classes), the ranking of a class's most active
 * dimensions, and traversals along them. Pure arithmetic; the decoder turns the results into images.
 */
import type { InterpolationPath, DimensionRanking } from '../../shared/studio'

/**
 * `steps` points from a to b, both ends included (t = i / (steps - 1)). Spherical interpolation
 * follows the great circle between the two directions (Shoemake's slerp, norms interpolated by the
 * same weights), so a path between two typical codes stays at a typical distance from the prior's
 * centre instead of cutting through its low-density middle; nearly parallel codes fall back to
 * the straight line.
 */
export function interpolateLatents(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  steps: number,
  path: InterpolationPath,
): Float32Array[] {
  const d = a.length
  let dot = 0
  let na = 0
  let nb = 0
  for (let j = 0; j < d; j++) {
    dot += a[j] * b[j]
    na += a[j] * a[j]
    nb += b[j] * b[j]
  }
  const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 1
  const omega = Math.acos(Math.min(1, Math.max(-1, cos)))
  const spherical = path === 'spherical' && omega > 1e-4 && Math.sin(omega) > 1e-6
  return tValues(steps).map((t) => {
    const [wa, wb] = spherical
      ? [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)]
      : [1 - t, t]
    const z = new Float32Array(d)
    for (let j = 0; j < d; j++) z[j] = t === 0 ? a[j] : t === 1 ? b[j] : wa * a[j] + wb * b[j]
    return z
  })
}

/** The class label along an interpolation: a one-hot moving linearly from class ca to class cb. */
export function interpolateLabels(
  ca: number,
  cb: number,
  classes: number,
  steps: number,
): Float32Array[] {
  return tValues(steps).map((t) => {
    const y = new Float32Array(classes)
    y[ca] += 1 - t
    y[cb] += t
    return y
  })
}

function tValues(steps: number): number[] {
  if (steps < 2) throw new Error('An interpolation needs at least 2 steps.')
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? 1 : i / (steps - 1)))
}

export interface DimensionStats {
  index: number
  /** Mean KL to N(0, 1) of this dimension over the class's images (nats). */
  kl: number
  /** Variance of the class's latent means along this dimension. */
  variance: number
  /** Mean and standard deviation of the class's latent means: a slider's centre and unit. */
  mean: number
  sd: number
}

/**
 * Per-dimension activity of one class from its images' posteriors (mu, log-variance): the mean KL
 * of q(z_j | x) to the prior, and the variance of mu_j across the images (Burda et al.'s activity
 * measure). A dimension the decoder ignores has KL near 0 and means that do not move.
 */
export function dimensionStats(
  mu: ArrayLike<number>[],
  logvar: ArrayLike<number>[],
): DimensionStats[] {
  const n = mu.length
  if (n === 0) throw new Error('This class has no images to measure its latent dimensions on.')
  const d = mu[0].length
  const out: DimensionStats[] = []
  for (let j = 0; j < d; j++) {
    let s = 0
    let sq = 0
    let kl = 0
    for (let i = 0; i < n; i++) {
      const m = mu[i][j]
      const lv = logvar[i][j]
      s += m
      sq += m * m
      kl += 0.5 * (m * m + Math.exp(lv) - 1 - lv)
    }
    const mean = s / n
    const variance = Math.max(0, sq / n - mean * mean)
    out.push({ index: j, kl: kl / n, variance, mean, sd: Math.sqrt(variance) })
  }
  return out
}

/** The `count` most active dimensions, most active first. */
export function rankDimensions(
  stats: DimensionStats[],
  by: DimensionRanking,
  count: number,
): DimensionStats[] {
  const key = (s: DimensionStats): number => (by === 'kl' ? s.kl : s.variance)
  return [...stats].sort((a, b) => key(b) - key(a) || a.index - b.index).slice(0, count)
}

/**
 * A traversal grid: one row per dimension, the base code with that dimension set to its centre
 * plus each of `values` times its unit (the class's spread along it, or 1 when it has none).
 */
export function traversal(
  base: ArrayLike<number>,
  dims: { index: number; mean: number; sd: number }[],
  values: number[],
): Float32Array[][] {
  return dims.map((dim) =>
    values.map((v) => {
      const z = Float32Array.from(base)
      z[dim.index] = dim.mean + v * (dim.sd > 1e-6 ? dim.sd : 1)
      return z
    }),
  )
}
