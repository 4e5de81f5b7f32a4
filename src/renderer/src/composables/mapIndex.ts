import type { ImageScore } from '../../../shared/studio'

/** A point of the map's selection: a real image or a synthetic sample, by id. */
export interface SelectedItem {
  kind: 'real' | 'synthetic'
  id: number
  classIndex: number
}

/**
 * A uniform grid over 2-D points, for the map's hover (nearest point within a radius) and box
 * selection: a query looks at the few cells it covers, so both stay instant at 30,000 points.
 */
export class PointIndex {
  private readonly x0: number
  private readonly y0: number
  private readonly cell: number
  private readonly cols: number
  private readonly rows: number
  /** Point indices sorted by cell, and where each cell's run starts (CSR layout). */
  private readonly order: Int32Array
  private readonly start: Int32Array

  constructor(
    private readonly xs: ArrayLike<number>,
    private readonly ys: ArrayLike<number>,
  ) {
    const n = xs.length
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity]
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, xs[i])
      x1 = Math.max(x1, xs[i])
      y0 = Math.min(y0, ys[i])
      y1 = Math.max(y1, ys[i])
    }
    if (!n) [x0, x1, y0, y1] = [0, 1, 0, 1]
    // about 4 points a cell on average
    const side = Math.max(1, Math.ceil(Math.sqrt(n / 4)))
    this.x0 = x0
    this.y0 = y0
    this.cell = Math.max(x1 - x0, y1 - y0, 1e-9) / side
    this.cols = Math.floor((x1 - x0) / this.cell) + 1
    this.rows = Math.floor((y1 - y0) / this.cell) + 1
    const cellOf = new Int32Array(n)
    const count = new Int32Array(this.cols * this.rows + 1)
    for (let i = 0; i < n; i++) {
      const c = this.cellAt(xs[i], ys[i])
      cellOf[i] = c
      count[c + 1]++
    }
    for (let c = 0; c < this.cols * this.rows; c++) count[c + 1] += count[c]
    this.start = count.slice()
    const fill = count.slice()
    this.order = new Int32Array(n)
    for (let i = 0; i < n; i++) this.order[fill[cellOf[i]]++] = i
  }

  private col(x: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.x0) / this.cell)))
  }
  private row(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.y0) / this.cell)))
  }
  private cellAt(x: number, y: number): number {
    return this.row(y) * this.cols + this.col(x)
  }

  /** The nearest point within `radius` of (x, y) that `keep` accepts, or null. */
  nearest(
    x: number,
    y: number,
    radius: number,
    keep: (i: number) => boolean = () => true,
  ): { i: number; d: number } | null {
    let best: { i: number; d: number } | null = null
    for (let r = this.row(y - radius); r <= this.row(y + radius); r++)
      for (let c = this.col(x - radius); c <= this.col(x + radius); c++) {
        const cell = r * this.cols + c
        for (let k = this.start[cell]; k < this.start[cell + 1]; k++) {
          const i = this.order[k]
          const d = Math.hypot(this.xs[i] - x, this.ys[i] - y)
          if (d <= radius && (!best || d < best.d) && keep(i)) best = { i, d }
        }
      }
    return best
  }

  /** Every point inside the box (corners in any order), in index order. */
  inBox(ax: number, ay: number, bx: number, by: number): number[] {
    const [x0, x1] = ax < bx ? [ax, bx] : [bx, ax]
    const [y0, y1] = ay < by ? [ay, by] : [by, ay]
    const out: number[] = []
    for (let r = this.row(y0); r <= this.row(y1); r++)
      for (let c = this.col(x0); c <= this.col(x1); c++) {
        const cell = r * this.cols + c
        for (let k = this.start[cell]; k < this.start[cell + 1]; k++) {
          const i = this.order[k]
          const px = this.xs[i]
          const py = this.ys[i]
          if (px >= x0 && px <= x1 && py >= y0 && py <= y1) out.push(i)
        }
      }
    return out.sort((a, b) => a - b)
  }
}

/**
 * The map's marks from audit scores: the point indices of the highest anomaly and label-error
 * scores, the top 1% of the map (at least 5, at most 200 each).
 */
export function topScored(
  ids: number[],
  scores: ImageScore[],
): { anomaly: number[]; labelError: number[] } {
  const at = new Map(ids.map((id, i) => [id, i]))
  const k = Math.min(200, Math.max(5, Math.ceil(ids.length / 100)))
  const top = (key: 'anomalyScore' | 'labelErrorScore') =>
    scores
      .filter((s) => at.has(s.imageId) && Number.isFinite(s[key]))
      .sort((a, b) => b[key] - a[key])
      .slice(0, k)
      .map((s) => at.get(s.imageId)!)
  return { anomaly: top('anomalyScore'), labelError: top('labelErrorScore') }
}
