import { readFileSync } from 'node:fs'

/**
 * True when a process with this id exists (EPERM means it exists but belongs to someone else). A
 * zombie (ended, not yet reaped: an orphan whose new parent reaps late) counts as gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  if (process.platform !== 'linux') return true
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
  } catch {
    return true
  }
}
