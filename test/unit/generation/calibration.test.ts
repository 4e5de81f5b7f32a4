import { describe, expect, it } from 'vitest'
import {
  calibrate,
  CALIBRATION_QUANTILE,
  MAX_THRESHOLD,
  quantile,
} from '../../../src/core/generation/calibration'
import { rng } from '../../../src/core/util/random'

/** Held-out scores of `n` real images of one class, spread evenly between lo and hi. */
const spread = (n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1))

describe('the class test calibrated on held-out real images', () => {
  it('puts each class bar at the quantile of its own held-out scores', () => {
    // class 0 is easy for the classifiers (0.6-0.8), class 1 hard (0.2-0.4)
    const own = [...spread(21, 0.6, 0.8), ...spread(21, 0.2, 0.4)]
    const labels = [...Array(21).fill(0), ...Array(21).fill(1)]
    const predicted = labels.map((l, i) => (i % 7 === 0 ? 1 - l : l))
    const [easy, hard] = calibrate(own, predicted, labels, 2)
    expect(easy.threshold).toBeCloseTo(0.6 + 0.2 * CALIBRATION_QUANTILE, 6)
    expect(hard.threshold).toBeCloseTo(0.5, 6) // 0.3 lies under chance for two classes
    expect(easy.heldOut).toBe(21)
    expect(easy.heldOutAccuracy).toBeCloseTo(18 / 21, 6)
    expect(easy.pooled).toBe(false)
  })

  it('never asks more than the absolute ceiling, nor less than chance', () => {
    const labels = [...Array(10).fill(0), ...Array(10).fill(1), ...Array(10).fill(2)]
    const own = [...spread(10, 0.97, 1), ...spread(10, 0.01, 0.05), ...spread(10, 0.5, 0.7)]
    const bars = calibrate(own, labels, labels, 3).map((c) => c.threshold)
    expect(bars[0]).toBe(MAX_THRESHOLD)
    expect(bars[1]).toBeCloseTo(1 / 3, 6)
    expect(bars[2]).toBeCloseTo(quantile(spread(10, 0.5, 0.7), CALIBRATION_QUANTILE), 6)
  })

  it('gives a class with too few held-out images the pooled bar, and ignores unscored images', () => {
    const rand = rng(3)
    const labels: number[] = []
    const own: number[] = []
    for (let i = 0; i < 40; i++) {
      labels.push(i % 2)
      own.push(0.4 + 0.4 * rand())
    }
    // class 2: two scored images and one that was never held out
    labels.push(2, 2, 2)
    own.push(0.99, 0.98, NaN)
    const bars = calibrate(own, labels, labels, 3)
    expect(bars[2].pooled).toBe(true)
    expect(bars[2].heldOut).toBe(2)
    expect(bars[2].threshold).toBeCloseTo(quantile(own, CALIBRATION_QUANTILE), 6)
    expect(bars[2].threshold).toBeLessThan(0.9)
  })

  it('computes quantiles between order statistics and skips non-finite values', () => {
    expect(quantile([3, 1, 2, NaN, 4], 0.5)).toBe(2.5)
    expect(quantile([5], 0.25)).toBe(5)
    expect(quantile([], 0.5)).toBeNaN()
  })
})
