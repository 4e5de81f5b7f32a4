import { describe, expect, it } from 'vitest'
import {
  armChart,
  chartDomain,
  heldOutLine,
  recallComparison,
} from '../../../src/renderer/src/composables/evaluationView'
import {
  ARM_NAMES,
  suggestedSyntheticWeight,
  type ArmName,
  type ArmResult,
} from '../../../src/shared/evaluation'

const arm = (
  name: ArmName,
  balancedAccuracy: number,
  spread = 0,
  perClassRecall: Record<string, number> = {},
): ArmResult => ({
  name,
  balancedAccuracy,
  macroF1: balancedAccuracy,
  perClassRecall,
  seeds: spread ? [balancedAccuracy - spread, balancedAccuracy + spread] : [balancedAccuracy],
  spread,
})

describe('the arms chart', () => {
  it('starts the axis below the lowest error bar at a round tick, so a few points show', () => {
    const { domain, step } = chartDomain([0.7, 0.79], [0.74, 0.83])
    expect(step).toBe(0.05)
    expect(domain).toEqual([0.65, 0.85])
    // a wide spread of arms: coarser ticks, never below 0 or above 1
    const wide = chartDomain([0.05, 0.5], [0.2, 0.99])
    expect(wide.step).toBe(0.2)
    expect(wide.domain).toEqual([0, 1])
    // identical arms still get an axis of some width
    const flat = chartDomain([0.8], [0.8])
    expect(flat.domain[1]).toBeGreaterThan(flat.domain[0])
    expect(flat.domain[0]).toBeLessThanOrEqual(0.8)
  })

  it('places bars and error bars on that axis, free arms first, the best one marked', () => {
    const arms = [
      arm('synthetic', 0.8, 0.02),
      arm('real', 0.7),
      arm('class-weights', 0.75, 0.01),
      arm('synthetic-half-weight', 0.82, 0.01),
    ]
    const c = armChart(arms, 'synthetic-half-weight')
    expect(c.bars.map((b) => b.name)).toEqual([
      'real',
      'class-weights',
      'synthetic',
      'synthetic-half-weight',
    ])
    expect(c.bars.map((b) => b.synthetic)).toEqual([false, false, true, true])
    expect(c.bars.filter((b) => b.best).map((b) => b.name)).toEqual(['synthetic-half-weight'])
    const [d0, d1] = c.domain
    const synthetic = c.bars[2]
    expect(synthetic.bar).toBeCloseTo((0.8 - d0) / (d1 - d0))
    expect(synthetic.low).toBeCloseTo((0.78 - d0) / (d1 - d0))
    expect(synthetic.high).toBeCloseTo((0.82 - d0) / (d1 - d0))
    // the ticks span the axis at round values
    expect(c.ticks[0]).toEqual({ value: d0, at: 0 })
    expect(c.ticks.at(-1)!.at).toBeCloseTo(1)
    for (const t of c.ticks) expect(Math.round(t.value * 100) % 5).toBe(0)
  })

  it('draws every arm of a full check', () => {
    const c = armChart(
      ARM_NAMES.map((n, i) => arm(n, 0.6 + i / 100)),
      'synthetic-tail',
    )
    expect(c.bars).toHaveLength(7)
    expect(c.bars.every((b) => b.bar > 0 && b.bar <= 1)).toBe(true)
  })
})

describe('recall per class and the held-out line', () => {
  const recall = (a: number, b: number) => ({ Bag: a, Coat: b, Ankle_boot: 0 })
  const heldOut = [
    { class: 'Bag', count: 3 },
    { class: 'Coat', count: 5 },
    { class: 'Ankle_boot', count: 0 },
  ]

  it('compares the best arm with class weights over the classes that hold images out', () => {
    const arms = [
      arm('class-weights', 0.7, 0, recall(0.6, 0.8)),
      arm('synthetic', 0.8, 0, recall(0.9, 0.7)),
    ]
    const r = recallComparison(arms, 'synthetic', heldOut)!
    expect(r.arm).toBe('synthetic')
    expect(r.rows.map((x) => x.className)).toEqual(['Bag', 'Coat'])
    expect(r.rows[0].diff).toBeCloseTo(0.3)
    expect(r.rows[1].diff).toBeCloseTo(-0.1)
  })

  it('compares the best synthetic arm when class weights itself is best', () => {
    const arms = [
      arm('class-weights', 0.9, 0, recall(0.9, 0.9)),
      arm('synthetic', 0.7, 0, recall(0.6, 0.8)),
      arm('synthetic-tail', 0.8, 0, recall(0.8, 0.8)),
    ]
    expect(recallComparison(arms, 'class-weights', heldOut)!.arm).toBe('synthetic-tail')
    expect(recallComparison([arm('real', 0.5)], 'real', heldOut)).toBeNull()
  })

  it('says how many images the arms were scored on and which classes hold none out', () => {
    expect(heldOutLine(heldOut)).toBe(
      'Scored on 8 held-out real images; Ankle_boot is too small to hold any out (no recall for it).',
    )
    expect(
      heldOutLine([...heldOut, { class: 'Sneaker', count: 0 }, { class: 'Bag2', count: 0 }]),
    ).toContain('Ankle_boot, Sneaker and Bag2 are too small')
    expect(heldOutLine([{ class: 'Bag', count: 1 }])).toBe('Scored on 1 held-out real image.')
  })

  it('suggests half weight for synthetic images only when that arm won by more than noise', () => {
    const full = arm('synthetic', 0.8, 0.01)
    expect(
      suggestedSyntheticWeight({
        best: 'synthetic-half-weight',
        arms: [full, arm('synthetic-half-weight', 0.83, 0.01)],
      }),
    ).toBe(0.5)
    // a win within the seeds' spread is no evidence
    expect(
      suggestedSyntheticWeight({
        best: 'synthetic-half-weight',
        arms: [full, arm('synthetic-half-weight', 0.805, 0.01)],
      }),
    ).toBe(1)
    for (const n of ARM_NAMES.filter((a) => a !== 'synthetic-half-weight'))
      expect(suggestedSyntheticWeight({ best: n, arms: [arm(n, 0.9)] })).toBe(1)
    expect(suggestedSyntheticWeight(null)).toBe(1)
  })
})
