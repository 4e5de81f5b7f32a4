import { describe, expect, it } from 'vitest'
import { fitPca, jacobiEigen, projectPca } from '../../../src/core/studio/pca'
import { rng } from '../../../src/core/util/random'

/** Points c + a*u + b*v (+ tiny noise) with a, b of known spread along two known orthogonal directions. */
function planted(n: number, d: number, sa: number, sb: number, seed: number) {
  const rand = rng(seed)
  const gauss = () => {
    const u = Math.max(rand(), 1e-12)
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
  }
  const u = Array.from({ length: d }, () => gauss())
  const nu = Math.hypot(...u)
  for (let j = 0; j < d; j++) u[j] /= nu
  let v = Array.from({ length: d }, () => gauss())
  const dot = v.reduce((s, x, j) => s + x * u[j], 0)
  v = v.map((x, j) => x - dot * u[j])
  const nv = Math.hypot(...v)
  for (let j = 0; j < d; j++) v[j] /= nv
  const centre = Array.from({ length: d }, (_, j) => j * 0.5 - 3)
  const coef: [number, number][] = []
  const rows = Array.from({ length: n }, () => {
    const a = gauss() * sa
    const b = gauss() * sb
    coef.push([a, b])
    return Float32Array.from(centre, (c, j) => c + a * u[j] + b * v[j] + gauss() * 1e-3)
  })
  return { rows, u, v, centre, coef }
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0
  for (let j = 0; j < a.length; j++) s += a[j] * b[j]
  return s
}

describe('PCA', () => {
  it('finds the exact axes and variances of a constructed 2-D case', () => {
    // the covariance of (x, y) = (2t, t) + (s, -2s) is known in closed form: axes (2,1)/√5 and (1,-2)/√5
    const rows: Float32Array[] = []
    for (const t of [-2, -1, 0, 1, 2])
      for (const s of [-0.1, 0.1]) rows.push(Float32Array.from([10 + 2 * t + s, -5 + t - 2 * s]))
    const p = fitPca(rows, 2)
    expect(p.mean[0]).toBeCloseTo(10, 5)
    expect(p.mean[1]).toBeCloseTo(-5, 5)
    expect(Math.abs(cosine(p.components[0], [2 / Math.sqrt(5), 1 / Math.sqrt(5)]))).toBeCloseTo(
      1,
      6,
    )
    expect(Math.abs(cosine(p.components[1], [1 / Math.sqrt(5), -2 / Math.sqrt(5)]))).toBeCloseTo(
      1,
      6,
    )
    // var along (2,1)/√5: 5 * mean(t²) = 5 * 2 = 10; along the other: 5 * 0.01 = 0.05
    expect(p.variances[0]).toBeCloseTo(10, 6)
    expect(p.variances[1]).toBeCloseTo(0.05, 6)
    // projections are the centred coordinates on the axes: the middle point sits near the origin
    const [mid] = projectPca(p, [Float32Array.from([10, -5])])
    expect(Math.hypot(mid[0], mid[1])).toBeLessThan(1e-5)
  })

  it('recovers two planted directions in 300 dimensions by block iteration', () => {
    const { rows, u, v, coef } = planted(600, 300, 5, 2, 3)
    const p = fitPca(rows, 2)
    expect(Math.abs(cosine(p.components[0], u))).toBeGreaterThan(0.999)
    expect(Math.abs(cosine(p.components[1], v))).toBeGreaterThan(0.999)
    expect(Math.abs(cosine(p.components[0], p.components[1]))).toBeLessThan(1e-6)
    expect(p.variances[0]).toBeGreaterThan(p.variances[1])
    // the map coordinates are the planted coefficients (up to sign, the sample mean, and the small
    // rotation that decorrelates the sample's a and b)
    const xy = projectPca(p, rows)
    const corr = (k: 0 | 1) => {
      const a = xy.map((q) => q[k])
      const b = coef.map((c) => c[k])
      const ma = a.reduce((s, x) => s + x, 0) / a.length
      const mb = b.reduce((s, x) => s + x, 0) / b.length
      let sab = 0
      let saa = 0
      let sbb = 0
      for (let i = 0; i < a.length; i++) {
        sab += (a[i] - ma) * (b[i] - mb)
        saa += (a[i] - ma) ** 2
        sbb += (b[i] - mb) ** 2
      }
      return Math.abs(sab / Math.sqrt(saa * sbb))
    }
    expect(corr(0)).toBeGreaterThan(0.999)
    expect(corr(1)).toBeGreaterThan(0.995)
  })

  it('gives the same picture twice (a fixed sign per axis)', () => {
    const { rows } = planted(200, 20, 3, 1, 9)
    const a = projectPca(fitPca(rows, 2), rows.slice(0, 5))
    const b = projectPca(fitPca(rows, 2, { seed: 77 }), rows.slice(0, 5))
    for (let i = 0; i < 5; i++) {
      expect(a[i][0]).toBeCloseTo(b[i][0], 4)
      expect(a[i][1]).toBeCloseTo(b[i][1], 4)
    }
  })

  it('diagonalises a symmetric matrix (Jacobi)', () => {
    const m = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5])
    const { values, vectors } = jacobiEigen(m, 3)
    for (let e = 0; e < 3; e++) {
      for (let r = 0; r < 3; r++) {
        let s = 0
        for (let c = 0; c < 3; c++) s += m[r * 3 + c] * vectors[c * 3 + e]
        expect(s).toBeCloseTo(values[e] * vectors[r * 3 + e], 9)
      }
    }
    expect([...values].reduce((s, x) => s + x, 0)).toBeCloseTo(12, 9)
  })
})
