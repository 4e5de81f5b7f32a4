import { describe, expect, it } from 'vitest'
import { parseStrategy, planGeneration } from '../../src/shared/plan'

const classes = [
  { name: 'cat', real: 100 },
  { name: 'dog', real: 40 },
  { name: 'owl', real: 10 },
  { name: 'fox', real: 40 },
]
const toGen = (p: ReturnType<typeof planGeneration>) => p.rows.map((r) => r.toGenerate)

describe('balancing planner (imbalanced-learn sampling_strategy semantics)', () => {
  it('not-majority fills every class but the majority up to the majority count', () => {
    const p = planGeneration(classes, { kind: 'not-majority' }, null)
    expect(toGen(p)).toEqual([0, 60, 90, 60])
    expect(p.rows.map((r) => r.total)).toEqual([100, 100, 100, 100])
    expect(p.toGenerate).toBe(210)
  })

  it('minority fills only the smallest class; not-minority all but it; all fills every class', () => {
    expect(toGen(planGeneration(classes, { kind: 'minority' }, null))).toEqual([0, 0, 90, 0])
    expect(toGen(planGeneration(classes, { kind: 'not-minority' }, null))).toEqual([0, 60, 0, 60])
    expect(toGen(planGeneration(classes, { kind: 'all' }, null))).toEqual([0, 60, 90, 60])
  })

  it('explicit targets set totals for the listed classes only, and refuse to shrink a class', () => {
    const p = planGeneration(classes, { kind: 'targets', targets: { owl: 25, dog: 40 } }, null)
    expect(toGen(p)).toEqual([0, 0, 15, 0])
    expect(() => planGeneration(classes, { kind: 'targets', targets: { cat: 50 } }, null)).toThrow(
      /below its 100 real images/,
    )
    expect(() => planGeneration(classes, { kind: 'targets', targets: { bat: 50 } }, null)).toThrow(
      /No class named "bat"/,
    )
  })

  it('caps synthetic images at maxRatio per real image and says which classes were capped', () => {
    const p = planGeneration(classes, { kind: 'not-majority' }, 3)
    expect(toGen(p)).toEqual([0, 60, 30, 60])
    expect(p.rows.map((r) => r.capped)).toEqual([false, false, true, false])
    const half = planGeneration(classes, { kind: 'not-majority' }, 0.5)
    expect(toGen(half)).toEqual([0, 20, 5, 20])
  })

  it('classes without real images get nothing (there is nothing to learn them from)', () => {
    const p = planGeneration([...classes, { name: 'empty', real: 0 }], { kind: 'all' }, null)
    expect(p.rows[4]).toMatchObject({ toGenerate: 0, total: 0 })
  })

  it('parses the CLI strategy forms', () => {
    expect(parseStrategy('not-majority')).toEqual({ kind: 'not-majority' })
    expect(parseStrategy('Not majority')).toEqual({ kind: 'not-majority' })
    expect(parseStrategy('minority')).toEqual({ kind: 'minority' })
    expect(parseStrategy('T-shirt top=500, owl=20')).toEqual({
      kind: 'targets',
      targets: { 'T-shirt top': 500, owl: 20 },
    })
    expect(() => parseStrategy('most')).toThrow(/Unknown strategy/)
  })

  it('treats class names as data: no inherited keys, __proto__ refused by name', () => {
    expect(() => parseStrategy('__proto__=5')).toThrow(/"__proto__" cannot be used as a class name/)
    const named = [
      { name: 'constructor', real: 3 },
      { name: 'toString', real: 1 },
    ]
    expect(toGen(planGeneration(named, parseStrategy('toString=2'), null))).toEqual([0, 1])
    expect(toGen(planGeneration(named, parseStrategy('constructor=5'), null))).toEqual([2, 0])
    expect(() => planGeneration(named, parseStrategy('hasOwnProperty=5'), null)).toThrow(
      /No class named "hasOwnProperty"/,
    )
  })
})
