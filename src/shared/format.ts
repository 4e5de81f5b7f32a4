/** Human-readable durations and ratios, shared by the renderer and the CLI. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

export const formatRatio = (r: number): string =>
  r ? `${r < 10 ? r.toFixed(1) : Math.round(r)}:1` : '—'

export const formatCount = (n: number): string => n.toLocaleString('en-US')
