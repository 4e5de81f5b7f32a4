import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '../../shared/result'

/**
 * The folder that holds the database and pixel stores: SYNTHFOLD_HOME when set (CLI, tests,
 * portable use), else the platform's per-user app-data folder (the same one Electron's
 * app.getPath('userData') gives for an app named Synthfold).
 */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SYNTHFOLD_HOME) return resolve(env.SYNTHFOLD_HOME)
  if (process.platform === 'win32')
    return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Synthfold')
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'Synthfold')
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Synthfold')
}

export const dbFile = (home: string): string => join(home, 'synthfold.db')
export const datasetDir = (home: string, id: number): string => join(home, 'datasets', String(id))

/** The folders of a library's records, beside its database. */
export const DATA_FOLDERS = ['datasets', 'runs', 'generations'] as const

/** True when `dir` exists and holds anything. */
export function folderInUse(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0
  } catch {
    return false
  }
}

/**
 * A new record's folder must be free: one that already holds files belongs to a record whose row
 * is gone (a database replaced or restored beside its data), and writing there would destroy it.
 */
export function assertFolderFree(dir: string, what: string): void {
  if (folderInUse(dir))
    throw new AppError(
      'conflict',
      `The folder ${dir} already holds files of another ${what} (the database may have been replaced or restored from an older copy). Move that folder away, or restore the database it belongs to, then try again.`,
    )
}

/** Walks up from this module to the folder holding package.json (works from src/ and out/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'resources'))) return dir
    dir = dirname(dir)
  }
  return process.cwd()
}

export function resourcesDir(): string {
  const packed = (process as { resourcesPath?: string }).resourcesPath
  if (packed && existsSync(join(packed, 'sample-fashion-mnist'))) return packed
  return join(projectRoot(), 'resources')
}

export const sampleDatasetPath = (): string => join(resourcesDir(), 'sample-fashion-mnist')
