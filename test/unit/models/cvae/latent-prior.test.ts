import { describe, expect, it } from 'vitest'
import {
  LatentAccumulator,
  TypicalLatentAccumulator,
  latentSample,
} from '../../../../src/core/models/cvae/latent-prior'
import { rng } from '../../../../src/core/util/random'

describe('the fitted class-conditional prior', () => {
  it('reproduces each class’s mean and correlations when sampling', () => {
    const rand = rng(3)
    const normal = (): number =>
      Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand())
    const acc = new LatentAccumulator(2, 2)
    for (let i = 0; i < 4000; i++) {
      const a = normal()
      // class 1: strongly correlated dimensions around (3, -1); class 0: independent around 0
      acc.add(1, [3 + a, -1 + 0.9 * a + 0.1 * normal()], [0, 0])
      acc.add(0, [normal(), normal()], [0.25, 0.25])
    }
    const stats = acc.finish()
    expect(stats.mean[1][0]).toBeCloseTo(3, 1)
    expect(stats.mean[1][1]).toBeCloseTo(-1, 1)
    expect(stats.chol).toBeDefined()
    const z = new Float32Array(2)
    let sxy = 0
    let sxx = 0
    let syy = 0
    for (let i = 0; i < 4000; i++) {
      latentSample(stats, 1, [normal(), normal()], 1, z)
      sxy += (z[0] - 3) * (z[1] + 1)
      sxx += (z[0] - 3) ** 2
      syy += (z[1] + 1) ** 2
    }
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.9)
    // class 0's spread includes the posterior variance (1 + 0.25)
    expect(stats.std[0][0]).toBeCloseTo(Math.sqrt(1.25), 1)
    // temperature 0 gives the class mean
    latentSample(stats, 1, [5, 5], 0, z)
    expect(z[0]).toBeCloseTo(stats.mean[1][0], 5)
  })

  it('fits each class on the images its classifier recognises, unless too few are', () => {
    const acc = new TypicalLatentAccumulator(2, 2)
    for (let i = 0; i < 90; i++) {
      // class 0: 60 recognised images around (2, 2), 30 ambiguous ones around (-6, -6)
      acc.add(0, i < 60 ? [2 + (i % 3) - 1, 2] : [-6, -6 + (i % 2)], [0.1, 0.1], i < 60)
      // class 1: only 10 of 90 recognised (under a quarter): all 90 are used
      acc.add(1, [i % 2 ? 1 : -1, 0], [0.1, 0.1], i < 10)
    }
    const stats = acc.finish()
    expect(stats.mean[0][0]).toBeCloseTo(2, 5)
    expect(stats.mean[0][1]).toBeCloseTo(2, 5)
    expect(stats.mean[1][0]).toBeCloseTo(0, 5)
    expect(acc.shares[0]).toBeCloseTo(60 / 90, 5)
    expect(acc.shares[1]).toBe(1)
    // the ambiguous images do not widen the fitted spread
    expect(stats.std[0][1]).toBeLessThan(0.5)
  })
})
