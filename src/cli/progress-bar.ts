import { formatDuration } from '../shared/format'
import type { JobProgress } from '../shared/types'

/** A bar of `width` cells, `frac` (0 to 1) of them filled. */
export function blocks(frac: number, width = 24): string {
  const filled = Math.round(Math.max(0, Math.min(1, frac)) * width)
  return '█'.repeat(filled) + '░'.repeat(width - filled)
}

/** One line: phase, bar, done/total, rate, ETA. */
export function renderBar(p: JobProgress, width = 28): string {
  if (p.phase === 'scanning' || p.phase === 'starting')
    return `Scanning folder… ${p.done} image files found`
  const bar = blocks(p.total > 0 ? p.done / p.total : 1, width)
  const label = p.phase === 'finishing' ? 'Finishing' : 'Importing'
  return `${label} ${bar} ${p.done}/${p.total}  ${Math.round(p.rate)} img/s  ETA ${formatDuration(p.etaSeconds)}`
}
