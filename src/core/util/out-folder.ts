import { isAbsolute, resolve } from 'node:path'
import { readdirSync } from 'node:fs'
import { AppError } from '../../shared/result'

/**
 * An output folder given to the API, normalised. A relative one is refused: it would be resolved
 * against the working directory of whatever process hosts the core (the web host's, the app's),
 * which is not where the person typing it expects; the CLI resolves its own against the shell.
 */
export function absoluteFolder(path: string): string {
  if (!isAbsolute(path))
    throw new AppError(
      'invalid_argument',
      `The output folder ${JSON.stringify(path)} is relative: give an absolute folder (for example /home/me/export).`,
    )
  return resolve(path)
}

/** True when the folder is missing or holds nothing. */
export function isEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0
  } catch {
    return true
  }
}
