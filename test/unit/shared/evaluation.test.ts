import { describe, expect, it } from 'vitest'
import {
  balancedAccuracy,
  confusion,
  inverseFrequencyWeights,
  logitAdjustment,
  macroF1,
  perClassRecall,
  standardDeviation,
  verdict,
  type ArmResult,
} from '../../../src/shared/evaluation'

describe('downstream metrics', () => {
  // 3 classes; truth 4 a, 2 b, 2 c
  const truth = [0, 0, 0, 0, 1, 1, 2, 2]
  const pred = [0, 0, 0, 1, 1, 0, 2, 0]
  const conf = confusion(truth, pred, 3)

  it('counts a confusion matrix by true row and predicted column', () => {
    expect(conf).toEqual([
      [3, 1, 0],
      [1, 1, 0],
      [1, 0, 1],
    ])
  })

  it('computes recall, balanced accuracy and macro-F1 as by hand', () => {
    expect(perClassRecall(conf)).toEqual([0.75, 0.5, 0.5])
    expect(balancedAccuracy(conf)).toBeCloseTo((0.75 + 0.5 + 0.5) / 3, 12)
    // a: p 3/5 r 3/4 -> 2*3/(4+5) = 6/9; b: p 1/2 r 1/2 -> 0.5; c: p 1 r 1/2 -> 2/3
    expect(macroF1(conf)).toBeCloseTo((6 / 9 + 0.5 + 2 / 3) / 3, 12)
  })

  it('leaves classes without test images out of the means', () => {
    const c = confusion([0, 0, 1], [0, 1, 1], 3)
    expect(perClassRecall(c)[2]).toBeNaN()
    expect(balancedAccuracy(c)).toBeCloseTo(0.75, 12)
    // a: tp 1, support 2, predicted 1 -> 2/3; b: tp 1, support 1, predicted 2 -> 2/3
    expect(macroF1(c)).toBeCloseTo(2 / 3, 12)
  })

  it('weights classes by inverse frequency like scikit-learn, 0 for an empty class', () => {
    // sklearn: n_samples / (n_classes * bincount) over the present classes
    expect(inverseFrequencyWeights([80, 15, 5, 0])).toEqual([
      100 / (3 * 80),
      100 / (3 * 15),
      100 / (3 * 5),
      0,
    ])
    const w = inverseFrequencyWeights([80, 15, 5])
    // the weighted count of every class is the same
    expect(80 * w[0]).toBeCloseTo(5 * w[2], 10)
  })

  it('offsets logits by tau log prior, finite for an empty class', () => {
    const a = logitAdjustment([75, 25], 1)
    expect(a[0]).toBeCloseTo(Math.log(0.75), 12)
    expect(a[1]).toBeCloseTo(Math.log(0.25), 12)
    expect(logitAdjustment([75, 25], 2)[1]).toBeCloseTo(2 * Math.log(0.25), 12)
    const b = logitAdjustment([90, 10, 0])
    expect(b[2]).toBeCloseTo(Math.log(0.1), 12)
  })

  it('says plainly whether synthetic images help, hurt or are within noise', () => {
    const arm = (name: ArmResult['name'], b: number, spread = 0.004): ArmResult => ({
      name,
      balancedAccuracy: b,
      macroF1: b,
      perClassRecall: {},
      seeds: [b],
      spread,
    })
    expect(verdict([arm('real', 0.7), arm('class-weights', 0.75), arm('synthetic', 0.8)])).toMatch(
      /^Synthetic images help: Real \+ synthetic reaches 80\.0% .* 5\.0 points above .*Real, class weights/,
    )
    expect(verdict([arm('class-weights', 0.8), arm('synthetic', 0.7)])).toMatch(
      /^Synthetic images do not help this dataset yet/,
    )
    expect(verdict([arm('class-weights', 0.8, 0.02), arm('synthetic', 0.81)])).toMatch(
      /no clear difference/,
    )
  })

  it('computes the sample standard deviation', () => {
    expect(standardDeviation([1])).toBe(0)
    expect(standardDeviation([1, 3])).toBeCloseTo(Math.SQRT2, 12)
  })
})
