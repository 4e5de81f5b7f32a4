import { describe, expect, it } from 'vitest'
import {
  dimensionStats,
  interpolateLabels,
  interpolateLatents,
  rankDimensions,
  traversal,
} from '../../../src/core/studio/latent-paths'
import { latentToolsRefusal } from '../../../src/shared/studio'
import { modelFamily } from '../../../src/core/studio/session'

describe('latent paths', () => {
  const a = [1, 0, 0, 2]
  const b = [0, 3, 0, -1]

  it('starts and ends exactly on the endpoints, linear or spherical', () => {
    for (const path of ['linear', 'spherical'] as const) {
      const zs = interpolateLatents(a, b, 7, path)
      expect(zs).toHaveLength(7)
      expect(Array.from(zs[0])).toEqual(a)
      expect(Array.from(zs[6])).toEqual(b)
    }
    const mid = interpolateLatents(a, b, 3, 'linear')[1]
    expect(Array.from(mid)).toEqual([0.5, 1.5, 0, 0.5])
  })

  it('keeps a spherical path off the low-norm middle a straight line cuts through', () => {
    const p = [3, 0]
    const q = [0, 3]
    const lin = interpolateLatents(p, q, 5, 'linear')[2]
    const sph = interpolateLatents(p, q, 5, 'spherical')[2]
    expect(Math.hypot(...lin)).toBeCloseTo(3 / Math.SQRT2, 5)
    expect(Math.hypot(...sph)).toBeCloseTo(3, 5)
  })

  it('moves the one-hot label from one class to the other', () => {
    const ys = interpolateLabels(0, 2, 3, 5)
    expect(Array.from(ys[0])).toEqual([1, 0, 0])
    expect(Array.from(ys[2])).toEqual([0.5, 0, 0.5])
    expect(Array.from(ys[4])).toEqual([0, 0, 1])
    // within one class the label stays put
    expect(interpolateLabels(1, 1, 3, 4).every((y) => y[1] === 1 && y[0] === 0)).toBe(true)
  })

  it('ranks the dimensions that move first, by KL or by the spread of the means', () => {
    // dimension 1 varies across images with a tight posterior; 0 and 2 sit at the prior
    const mu = [
      [0, -2, 0.01],
      [0, 2, -0.01],
      [0, 1, 0],
    ]
    const logvar = [
      [0, -4, 0],
      [0, -4, 0],
      [0, -4, 0],
    ]
    const stats = dimensionStats(mu, logvar)
    expect(rankDimensions(stats, 'kl', 1)[0].index).toBe(1)
    expect(rankDimensions(stats, 'variance', 2).map((s) => s.index)).toEqual([1, 2])
    expect(stats[0].kl).toBeCloseTo(0, 9)
    expect(stats[1].mean).toBeCloseTo(1 / 3, 9)
  })

  it('lays a traversal out one dimension a row, in units of the class spread', () => {
    const grid = traversal([0, 0, 0], [{ index: 2, mean: 1, sd: 0.5 }], [-2, 0, 2])
    expect(grid).toHaveLength(1)
    expect(grid[0].map((z) => z[2])).toEqual([0, 1, 2])
    expect(grid[0].every((z) => z[0] === 0 && z[1] === 0)).toBe(true)
  })

  it('refuses model families with no continuous latent, by the checkpoint settings', () => {
    expect(modelFamily({ preset: 'fast' })).toBe('cvae')
    expect(latentToolsRefusal(modelFamily({ model: 'cvae' }))).toBeNull()
    expect(latentToolsRefusal(modelFamily({ model: 'vqvae' }))).toMatch(/no continuous latent/)
  })
})
