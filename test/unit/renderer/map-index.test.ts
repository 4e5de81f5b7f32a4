import { describe, expect, it, vi } from 'vitest'
import { PointIndex, topScored } from '../../../src/renderer/src/composables/mapIndex'
import { latestOnly } from '../../../src/renderer/src/composables/latestOnly'

describe("the map's point index", () => {
  // a 100 x 100 lattice, point i at (i % 100, floor(i / 100))
  const xs = Array.from({ length: 10_000 }, (_, i) => i % 100)
  const ys = Array.from({ length: 10_000 }, (_, i) => Math.floor(i / 100))
  const index = new PointIndex(xs, ys)

  it('finds the nearest point within a radius, and none beyond it', () => {
    expect(index.nearest(10.2, 20.1, 1)?.i).toBe(20 * 100 + 10)
    expect(index.nearest(10.5, 20.5, 0.3)).toBeNull()
    // a filter skips points: the next nearest is taken
    expect(index.nearest(10.2, 20.1, 1.5, (i) => i !== 2010)?.i).toBe(2011)
  })

  it('selects exactly the points inside a box, corners in any order', () => {
    const inBox = index.inBox(12.5, 30.5, 9.5, 27.5)
    const expected: number[] = []
    for (let y = 28; y <= 30; y++) for (let x = 10; x <= 12; x++) expected.push(y * 100 + x)
    expect(inBox).toEqual(expected)
    expect(index.inBox(-5, -5, 200, 200)).toHaveLength(10_000)
    expect(new PointIndex([], []).inBox(0, 0, 1, 1)).toEqual([])
  })

  it('marks the highest audit scores of the images on the map', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i + 1)
    const scores = ids.map((id) => ({
      imageId: id,
      anomalyScore: id === 500 ? 99 : id / 1000,
      labelErrorScore: id === 7 ? 50 : 0,
    }))
    scores.push({ imageId: 5000, anomalyScore: 1000, labelErrorScore: 1000 })
    const m = topScored(ids, scores)
    // the top 1% (10), the planted one first; an image not on the map is ignored
    expect(m.anomaly).toHaveLength(10)
    expect(m.anomaly[0]).toBe(499)
    expect(m.labelError[0]).toBe(6)
  })
})

describe('latestOnly', () => {
  it('runs one task at a time and then once more with the latest state', async () => {
    vi.useFakeTimers()
    let running = 0
    let most = 0
    const seen: number[] = []
    let value = 0
    let release: () => void = () => undefined
    const trigger = latestOnly(async () => {
      running++
      most = Math.max(most, running)
      seen.push(value)
      await new Promise<void>((r) => (release = r))
      running--
    }, 10)
    value = 1
    trigger()
    await vi.advanceTimersByTimeAsync(11)
    for (value = 2; value <= 5; value++) {
      trigger()
      await vi.advanceTimersByTimeAsync(11)
    }
    value = 5
    release()
    await vi.advanceTimersByTimeAsync(11)
    release()
    await vi.advanceTimersByTimeAsync(11)
    expect(seen).toEqual([1, 5])
    expect(most).toBe(1)
    vi.useRealTimers()
  })
})
