import { formatDuration } from '../shared/format'
import type { JobProgress } from '../shared/types'

/** One line: phase, bar, done/total, rate, ETA. */
export function renderBar(p: JobProgress, width = 28): string {
  if (p.phase === 'scanning' || p.phase === 'starting')
    return `Scanning folder… ${p.done} image files found`
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1
  const filled = Math.round(frac * width)
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
  const label = p.phase === 'finishing' ? 'Finishing' : 'Importing'
  return `${label} ${bar} ${p.done}/${p.total}  ${Math.round(p.rate)} img/s  ETA ${formatDuration(p.etaSeconds)}`
}
