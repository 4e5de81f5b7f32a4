import { describe, expect, it } from 'vitest'
import { assignSplits, splitCounts } from '../../../src/core/export/splits'

const items = (counts: number[]): { key: string; classIndex: number }[] =>
  counts.flatMap((n, c) =>
    Array.from({ length: n }, (_, i) => ({ key: `c${c}/img${i}.png`, classIndex: c })),
  )

const tally = (m: Map<string, string>, prefix: string): Record<string, number> => {
  const t: Record<string, number> = { train: 0, val: 0, test: 0 }
  for (const [k, v] of m) if (k.startsWith(prefix)) t[v]++
  return t
}

describe('assignSplits', () => {
  it('splits each class by the fractions, rounding per class', () => {
    const m = assignSplits(items([100, 10, 7]), [0.7, 0.2, 0.1], 1)
    expect(m.size).toBe(117)
    expect(tally(m, 'c0/')).toEqual({ train: 70, val: 20, test: 10 })
    expect(tally(m, 'c1/')).toEqual({ train: 7, val: 2, test: 1 })
    // 7 × 0.2 = 1.4 → 1, 7 × 0.1 = 0.7 → 1
    expect(tally(m, 'c2/')).toEqual({ train: 5, val: 1, test: 1 })
  })

  it('puts the evaluation split in test, counting it towards the test share', () => {
    // 100 images, 15 of them the evaluation split: test gets those 15 (over its 10), val its 20
    const list = items([100, 10]).map((it, i) => ({ ...it, test: it.classIndex === 0 && i < 15 }))
    const m = assignSplits(list, [0.7, 0.2, 0.1], 1)
    expect(tally(m, 'c0/')).toEqual({ train: 65, val: 20, test: 15 })
    for (let i = 0; i < 15; i++) expect(m.get(`c0/img${i}.png`)).toBe('test')
    // 5 held out of 100 at 10% test: the other 5 test images come from the rest
    const five = items([100]).map((it, i) => ({ ...it, test: i < 5 }))
    expect(tally(assignSplits(five, [0.7, 0.2, 0.1], 1), 'c0/')).toEqual({
      train: 70,
      val: 20,
      test: 10,
    })
    // a class of 4 with 3 held out keeps one image for training
    const small = items([4]).map((it, i) => ({ ...it, test: i < 3 }))
    expect(tally(assignSplits(small, [0.5, 0.25, 0.25], 1), 'c0/')).toEqual({
      train: 1,
      val: 0,
      test: 3,
    })
    // untouched without the flag
    expect(tally(m, 'c1/')).toEqual({ train: 7, val: 2, test: 1 })
  })

  it('leaves at least one training image in a class of 3 or more', () => {
    expect(splitCounts(3, [0, 0.5, 0.5])).toEqual({ train: 1, val: 1, test: 1 })
    expect(splitCounts(4, [0.1, 0.45, 0.45])).toEqual({ train: 1, val: 2, test: 1 })
    expect(splitCounts(2, [0, 0.5, 0.5])).toEqual({ train: 0, val: 1, test: 1 })
    expect(splitCounts(1, [0.5, 0.5, 0])).toEqual({ train: 0, val: 1, test: 0 })
    expect(splitCounts(0, [0.8, 0.1, 0.1])).toEqual({ train: 0, val: 0, test: 0 })
  })

  it('is the same for the same seed whatever the input order, and differs for another seed', () => {
    const list = items([50, 30])
    const a = assignSplits(list, [0.6, 0.2, 0.2], 42)
    const b = assignSplits([...list].reverse(), [0.6, 0.2, 0.2], 42)
    expect([...b].sort()).toEqual([...a].sort())
    const c = assignSplits(list, [0.6, 0.2, 0.2], 43)
    expect([...c].sort()).not.toEqual([...a].sort())
  })

  it("keeps a class's split when another class changes", () => {
    const a = assignSplits(items([40, 40]), [0.5, 0.25, 0.25], 7)
    const b = assignSplits(items([40, 3]), [0.5, 0.25, 0.25], 7)
    expect(tally(a, 'c0/')).toEqual(tally(b, 'c0/'))
    for (let i = 0; i < 40; i++) expect(b.get(`c0/img${i}.png`)).toBe(a.get(`c0/img${i}.png`))
  })

  it('refuses fractions that are negative or do not add up to 1', () => {
    expect(() => assignSplits([], [0.8, 0.3, 0], 1)).toThrow(/add up to 1/)
    expect(() => assignSplits([], [1.2, -0.2, 0], 1)).toThrow(/≥ 0/)
    expect(() => assignSplits([], [NaN, 0, 1], 1)).toThrow(/≥ 0/)
    expect(() =>
      assignSplits(
        [
          { key: 'a', classIndex: 0 },
          { key: 'a', classIndex: 1 },
        ],
        [1, 0, 0],
        1,
      ),
    ).toThrow(/Duplicate/)
  })
})
