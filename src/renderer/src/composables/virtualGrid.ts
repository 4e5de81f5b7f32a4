/** Which rows of a fixed-cell grid are on screen (plus an overscan margin), for virtualised lists. */
export interface GridWindow {
  columns: number
  rows: number
  firstRow: number
  lastRow: number
  totalHeight: number
}

export function gridWindow(opts: {
  total: number
  width: number
  cell: number
  scrollTop: number
  viewport: number
  overscan?: number
}): GridWindow {
  const columns = Math.max(1, Math.floor(opts.width / opts.cell))
  const rows = Math.ceil(opts.total / columns)
  const overscan = opts.overscan ?? 3
  const firstRow = Math.max(0, Math.floor(opts.scrollTop / opts.cell) - overscan)
  const lastRow = Math.min(
    rows - 1,
    Math.ceil((opts.scrollTop + opts.viewport) / opts.cell) + overscan,
  )
  return { columns, rows, firstRow, lastRow, totalHeight: rows * opts.cell }
}
