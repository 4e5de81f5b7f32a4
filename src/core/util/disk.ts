/** True for the errors a full disk (or an exhausted quota) raises, from Node's fs and from SQLite. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL'
}

/** What a run or generation that hit a full disk says, with what the person can do. */
export function diskFullMessage(what: string, keeps: string): string {
  return [`Disk full: ${what}.`, keeps, 'Free some space, then resume.'].filter(Boolean).join(' ')
}
