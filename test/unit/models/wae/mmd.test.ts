import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../../../../src/core/accel/backend'
import { IMQ_SCALES, imqMmd, waeLoss } from '../../../../src/core/models/wae/loss'

/** The kernel sum written out: sum over scales of C / (C + d2), C = 2 * dim * s. */
const k = (d2: number, dim: number): number =>
  IMQ_SCALES.reduce((a, s) => a + (2 * dim * s) / (2 * dim * s + d2), 0)

/** The unbiased MMD^2 estimate with plain loops, for rows of numbers. */
function loops(z: number[][], p: number[][]): number {
  const n = z.length
  const dim = z[0].length
  const d2 = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0)
  let zz = 0
  let pp = 0
  let zp = 0
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i !== j) {
        zz += k(d2(z[i], z[j]), dim)
        pp += k(d2(p[i], p[j]), dim)
      }
      zp += k(d2(z[i], p[j]), dim)
    }
  return (zz + pp) / (n * (n - 1)) - (2 * zp) / (n * n)
}

describe('the WAE divergence: MMD with an inverse multiquadratic kernel', () => {
  beforeAll(async () => {
    await initBackend('wasm')
  })

  it('matches a value computed by hand on two points in one dimension', () => {
    // z = {0, 1}, p = {0, 2}: zz = k(1), pp = k(4), the cross term (k(0) + k(4) + 2 k(1)) / 2
    // with k(0) = 7 (one per scale), so MMD^2 = k(4) / 2 - 3.5
    const got = tf.tidy(
      () => imqMmd(tf.tensor2d([[0], [1]]), tf.tensor2d([[0], [2]])).dataSync()[0],
    )
    expect(got).toBeCloseTo(k(4, 1) / 2 - 3.5, 5)
  })

  it('matches the estimate written with loops on random codes of several dimensions', () => {
    let seed = 3
    const r = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2
    const z = Array.from({ length: 9 }, () => Array.from({ length: 5 }, r))
    const p = Array.from({ length: 9 }, () => Array.from({ length: 5 }, r))
    const got = tf.tidy(() => imqMmd(tf.tensor2d(z), tf.tensor2d(p)).dataSync()[0])
    expect(got).toBeCloseTo(loops(z, p), 4)
  })

  it('is near zero for two samples of the prior and grows as the codes move away from it', () => {
    const at = (shift: number): number =>
      tf.tidy(() => {
        const z = tf.add(tf.randomNormal([256, 8], 0, 1, 'float32', 1), shift) as tf.Tensor2D
        const p = tf.randomNormal([256, 8], 0, 1, 'float32', 2) as tf.Tensor2D
        return imqMmd(z, p).dataSync()[0]
      })
    const same = at(0)
    const near = at(0.5)
    const far = at(2)
    expect(Math.abs(same)).toBeLessThan(0.02)
    expect(near).toBeGreaterThan(same + 0.05)
    expect(far).toBeGreaterThan(near)
  })

  it('gives the codes a gradient towards the prior, and the loss adds lambda times it', () => {
    const z0 = tf.add(tf.randomNormal([64, 4], 0, 1, 'float32', 5), 3) as tf.Tensor2D
    const p = tf.randomNormal([64, 4], 0, 1, 'float32', 6) as tf.Tensor2D
    const g = tf.grad((z: tf.Tensor) => imqMmd(z as tf.Tensor2D, p))(z0)
    // every code sits at +3: descending the gradient moves the mean towards 0
    expect(tf.mean(g).dataSync()[0]).toBeGreaterThan(0)
    const target = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D
    const logits = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D
    const zs = tf.tensor2d([
      [0, 1],
      [1, 0],
    ])
    const ps = tf.tensor2d([
      [0, 0],
      [1, 1],
    ])
    const l = waeLoss(target, logits, zs, ps, { lambda: 10, reconstruction: 'mse' })
    const [total, rec, mmd] = [l.total, l.reconstruction, l.mmd].map((t) => t.dataSync()[0])
    expect(rec).toBeCloseTo(0, 6) // sigmoid(0) = 0.5 everywhere
    expect(total).toBeCloseTo(rec + 10 * mmd, 5)
    tf.dispose([z0, p, g, target, logits, zs, ps, l.total, l.reconstruction, l.mmd])
  })
})
