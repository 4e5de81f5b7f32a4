import { AppError } from '../../shared/result'
import type { ImportsRepo } from '../db/imports-repo'

/**
 * Releases the import lock of an import that failed and records why, so the dataset shows as
 * incomplete with the cause (a full disk says so) rather than, after the next start, as stopped
 * by a crash. Returns the error to report: a full disk or an unwritable data folder becomes a
 * message that says what to do. A lost lock (conflict) leaves the row to its new owner.
 */
export function failImport(
  repo: ImportsRepo,
  home: string,
  datasetId: number,
  err: unknown,
): unknown {
  if (err instanceof AppError && err.code === 'conflict') return err
  const code = String((err as { code?: unknown })?.code ?? '')
  const detail = err instanceof Error ? err.message : String(err)
  let kept = 0
  try {
    kept = repo.importedCount(datasetId)
  } catch {
    // the count only makes the message more precise
  }
  const again = 'then import the folder again to continue where it stopped.'
  let reported: unknown = err
  let message: string
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') {
    message = `The disk is full: the import stopped after ${kept} images (they are kept). Free some space on the disk that holds ${home}, ${again}`
    reported = new AppError('io', message)
  } else if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    message = `Synthfold could not write to its data folder ${home} (${code}): the import stopped after ${kept} images. Make the folder writable, ${again}`
    reported = new AppError('io', message)
  } else {
    message = `The import stopped after ${kept} images: ${detail}. Import the folder again to continue where it stopped.`
  }
  try {
    repo.markFailed(datasetId, message)
  } catch {
    // Nothing more can be written (the disk may be that full): the next start marks it interrupted.
  }
  return reported
}
