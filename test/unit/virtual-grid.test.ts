import { describe, expect, it } from 'vitest'
import { gridWindow } from '../../src/renderer/src/composables/virtualGrid'

describe('the virtualised thumbnail grid window', () => {
  it('keeps the number of rendered cells bounded by the viewport, whatever the total', () => {
    for (const total of [100, 10_000, 100_000]) {
      const w = gridWindow({ total, width: 840, cell: 84, scrollTop: 0, viewport: 460 })
      expect(w.columns).toBe(10)
      expect((w.lastRow - w.firstRow + 1) * w.columns).toBeLessThanOrEqual(120)
    }
  })

  it('follows the scroll position to the very end of 100,000 images', () => {
    const total = 100_000
    const top = gridWindow({ total, width: 840, cell: 84, scrollTop: 0, viewport: 460 })
    const end = gridWindow({
      total,
      width: 840,
      cell: 84,
      scrollTop: top.totalHeight - 460,
      viewport: 460,
    })
    expect(top.totalHeight).toBe(10_000 * 84)
    expect(end.lastRow).toBe(9_999)
    expect(end.firstRow).toBeGreaterThan(9_980)
  })

  it('never asks for rows outside the data', () => {
    const w = gridWindow({ total: 5, width: 100, cell: 84, scrollTop: 5000, viewport: 460 })
    expect(w.columns).toBe(1)
    expect(w.lastRow).toBe(4)
  })
})
