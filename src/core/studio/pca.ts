/**
 * Principal component analysis of n row vectors (dimension d), with no dependency: the top k
 * directions by block power iteration on the covariance (X - mean)^T (X - mean) / n, finished by a
 * Rayleigh-Ritz step (a Jacobi eigen-decomposition of the small projected matrix). Each pass reads
 * the rows once, so 30,000 classifier features of a few thousand dimensions take seconds, and when
 * the block spans every dimension (d small: latent means) one pass is exact.
 */
export interface Pca {
  mean: Float64Array
  /** k unit vectors of length d, by decreasing variance. */
  components: Float64Array[]
  /** The variance along each component. */
  variances: number[]
}

/** Fits the top `k` principal components of `rows` (all of one length). */
export function fitPca(
  rows: ArrayLike<number>[],
  k: number,
  opts: { iterations?: number; seed?: number; shouldStop?: () => boolean } = {},
): Pca {
  const n = rows.length
  if (n === 0) throw new Error('PCA needs at least one point.')
  const d = rows[0].length
  const mean = new Float64Array(d)
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j]
  for (let j = 0; j < d; j++) mean[j] /= n
  const want = Math.min(k, d)
  // a few extra directions make the top ones converge faster
  const m = Math.min(d, want + 8)
  let q = orthonormalColumns(randomBlock(d, m, opts.seed ?? 1), d, m)
  const iterations = m === d ? 1 : (opts.iterations ?? 12)
  for (let it = 0; it < iterations; it++) {
    if (opts.shouldStop?.()) throw new CancelledError()
    q = orthonormalColumns(covTimes(rows, mean, q, d, m), d, m)
  }
  // Rayleigh-Ritz: B = Q^T C Q, whose eigenvectors rotate Q onto the principal directions
  const cq = covTimes(rows, mean, q, d, m)
  const b = new Float64Array(m * m)
  for (let a = 0; a < m; a++)
    for (let c = 0; c < m; c++) {
      let s = 0
      for (let j = 0; j < d; j++) s += q[j * m + a] * cq[j * m + c]
      b[a * m + c] = s
    }
  const { values, vectors } = jacobiEigen(b, m)
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => values[y] - values[x])
  const components: Float64Array[] = []
  const variances: number[] = []
  for (const e of order.slice(0, want)) {
    const v = new Float64Array(d)
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let a = 0; a < m; a++) s += q[j * m + a] * vectors[a * m + e]
      v[j] = s
    }
    // a sign convention, so the same data gives the same picture
    let big = 0
    for (let j = 0; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j
    if (v[big] < 0) for (let j = 0; j < d; j++) v[j] = -v[j]
    components.push(v)
    variances.push(Math.max(0, values[e]))
  }
  return { mean, components, variances }
}

/** Coordinates of rows on the fitted components (k numbers a row). */
export function projectPca(p: Pca, rows: ArrayLike<number>[]): Float64Array[] {
  const d = p.mean.length
  return rows.map((r) => {
    const out = new Float64Array(p.components.length)
    p.components.forEach((c, i) => {
      let s = 0
      for (let j = 0; j < d; j++) s += (r[j] - p.mean[j]) * c[j]
      out[i] = s
    })
    return out
  })
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled')
    this.name = 'CancelledError'
  }
}

/** C Q for the centred rows, Q a d x m block (row-major), in one pass over the rows. */
function covTimes(
  rows: ArrayLike<number>[],
  mean: Float64Array,
  q: Float64Array,
  d: number,
  m: number,
): Float64Array {
  const out = new Float64Array(d * m)
  const x = new Float64Array(d)
  const t = new Float64Array(m)
  for (const r of rows) {
    for (let j = 0; j < d; j++) x[j] = r[j] - mean[j]
    t.fill(0)
    for (let j = 0; j < d; j++) {
      const xj = x[j]
      if (xj === 0) continue
      const o = j * m
      for (let a = 0; a < m; a++) t[a] += xj * q[o + a]
    }
    for (let j = 0; j < d; j++) {
      const xj = x[j]
      if (xj === 0) continue
      const o = j * m
      for (let a = 0; a < m; a++) out[o + a] += xj * t[a]
    }
  }
  const inv = 1 / rows.length
  for (let i = 0; i < out.length; i++) out[i] *= inv
  return out
}

function randomBlock(d: number, m: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1
  const next = (): number => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296 - 0.5
  }
  return Float64Array.from({ length: d * m }, next)
}

/** Modified Gram-Schmidt on the m columns of a d x m block; a column that vanishes is replaced. */
function orthonormalColumns(a: Float64Array, d: number, m: number): Float64Array {
  let spare = 0
  for (let c = 0; c < m; c++) {
    for (;;) {
      for (let p = 0; p < c; p++) {
        let dot = 0
        for (let j = 0; j < d; j++) dot += a[j * m + c] * a[j * m + p]
        for (let j = 0; j < d; j++) a[j * m + c] -= dot * a[j * m + p]
      }
      let norm = 0
      for (let j = 0; j < d; j++) norm += a[j * m + c] ** 2
      norm = Math.sqrt(norm)
      if (norm > 1e-9 || spare >= d) {
        for (let j = 0; j < d; j++) a[j * m + c] = norm > 1e-9 ? a[j * m + c] / norm : 0
        break
      }
      // rank-deficient data: any unit vector orthogonal to the others will do
      for (let j = 0; j < d; j++) a[j * m + c] = j === spare ? 1 : 0
      spare++
    }
  }
  return a
}

/** Eigen-decomposition of a symmetric m x m matrix by cyclic Jacobi rotations; vectors in columns. */
export function jacobiEigen(
  input: Float64Array,
  m: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input)
  const v = new Float64Array(m * m)
  for (let i = 0; i < m; i++) v[i * m + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let p = 0; p < m; p++) for (let r = p + 1; r < m; r++) off += a[p * m + r] ** 2
    if (off < 1e-22) break
    for (let p = 0; p < m; p++)
      for (let r = p + 1; r < m; r++) {
        const apr = a[p * m + r]
        if (Math.abs(apr) < 1e-300) continue
        const theta = (a[r * m + r] - a[p * m + p]) / (2 * apr)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p]
          const akr = a[k * m + r]
          a[k * m + p] = c * akp - s * akr
          a[k * m + r] = s * akp + c * akr
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k]
          const ark = a[r * m + k]
          a[p * m + k] = c * apk - s * ark
          a[r * m + k] = s * apk + c * ark
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p]
          const vkr = v[k * m + r]
          v[k * m + p] = c * vkp - s * vkr
          v[k * m + r] = s * vkp + c * vkr
        }
      }
  }
  const values = new Float64Array(m)
  for (let i = 0; i < m; i++) values[i] = a[i * m + i]
  return { values, vectors: v }
}
