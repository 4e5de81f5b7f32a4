/**
 * The export journal: `<root>/.synthfold-export.json`, written before the first image and removed
 * after the last manifest file. While it is there the export is unfinished, and it says exactly
 * which paths are ours, so an interrupted export can be resumed (same job) or cleaned up without
 * touching anything else in the folder.
 */
import { createHash } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ExportError, TEMP_SUFFIX, tempPathFor } from './safe-write'

export const JOURNAL_NAME = '.synthfold-export.json'

export interface Journal {
  app: 'synthfold'
  version: 1
  /** Identifies the job: resume refuses a journal whose fingerprint differs. */
  fingerprint: string
  /** Whether the export created the root folder (cleanup then removes it when empty). */
  createdRoot: boolean
  /** Folders the export created, relative to the root; cleanup removes them when empty. */
  createdDirs: string[]
  /** Data files, relative to the root, forward slashes. */
  files: string[]
  /** Files written after all data files (the manifests), in writing order. */
  finalFiles: string[]
}

/**
 * Throws unless `rel` is a plain relative path below the root: forward slashes, no empty, `.` or
 * `..` segment, no backslash, NUL or colon (a drive or a Windows stream), not our journal or temp
 * names. Also guards cleanup against a tampered journal that would point outside the export.
 */
export function checkRel(rel: string): void {
  const segments = rel.split('/')
  const bad =
    rel.includes('\\') ||
    rel.includes('\0') ||
    rel.includes(':') ||
    rel === JOURNAL_NAME ||
    rel.endsWith(TEMP_SUFFIX) ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  if (bad) throw new Error(`Not a valid relative export path: ${JSON.stringify(rel)}`)
}

/** Every folder that must exist for `rels`, relative, parents before children. */
export function parentDirs(rels: readonly string[]): string[] {
  const dirs = new Set<string>()
  for (const rel of rels) {
    const segments = rel.split('/')
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'))
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))
}

/** A digest of what the job writes and from where, plus anything the caller adds to it. */
export function fingerprint(parts: {
  files: { rel: string; source: string }[]
  finalFiles: string[]
  extra?: string
}): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify([parts.files, parts.finalFiles, parts.extra ?? null]))
  return hash.digest('hex')
}

export const journalPath = (root: string): string => join(root, JOURNAL_NAME)

/**
 * Writes the journal through a flushed temporary file and a rename, so a kill leaves either no
 * journal or a complete one (the rename may replace: the journal is ours alone).
 */
export async function writeJournal(root: string, journal: Journal): Promise<void> {
  const final = journalPath(root)
  const tmp = tempPathFor(final)
  try {
    const fh = await open(tmp, 'wx')
    try {
      await fh.writeFile(JSON.stringify(journal))
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, final)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
}

function isRel(rel: string): boolean {
  try {
    checkRel(rel)
    return true
  } catch {
    return false
  }
}

/** The journal in `root`, or null when there is none (no export, or a finished one). */
export async function readJournal(root: string): Promise<Journal | null> {
  let text: string
  try {
    text = await readFile(journalPath(root), 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null
    throw err
  }
  let j: Partial<Journal>
  try {
    j = JSON.parse(text) as Partial<Journal>
  } catch {
    j = {}
  }
  const strings = (a: unknown): a is string[] =>
    Array.isArray(a) && a.every((s) => typeof s === 'string')
  if (
    j.app !== 'synthfold' ||
    j.version !== 1 ||
    typeof j.fingerprint !== 'string' ||
    typeof j.createdRoot !== 'boolean' ||
    !strings(j.createdDirs) ||
    !strings(j.files) ||
    !strings(j.finalFiles) ||
    ![...j.createdDirs, ...j.files, ...j.finalFiles].every(isRel)
  ) {
    throw new ExportError(
      'not_resumable',
      `${journalPath(root)} is not an export journal this version of Synthfold can read.`,
    )
  }
  return j as Journal
}
