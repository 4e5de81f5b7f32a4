/**
 * The checks an export makes before writing anything: that its paths are valid and distinct,
 * that the root suits the mode (empty for `new`, no taken path for `merge`, the same job's journal
 * for `resume`), and the journal that records the intent.
 */
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { checkRel, fingerprint, parentDirs, readJournal, type Journal } from './journal'
import { nameKey } from './names'
import { ExportError, toExportError } from './safe-write'
import type { WriteExportOptions } from './files'

/** What is at `path`: a folder, anything else, or nothing. */
export async function exists(path: string): Promise<'file' | 'dir' | null> {
  try {
    return (await lstat(path)).isDirectory() ? 'dir' : 'file'
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null
    throw toExportError(err, path)
  }
}

/** Runs `task(0..n-1)` `concurrency` at a time; stops taking new ones on `stop()` or an error. */
export async function runPool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<{ stopped: boolean }> {
  let next = 0
  let stopped = false
  let failure = null as { err: unknown } | null
  const worker = async (): Promise<void> => {
    while (!failure && next < n) {
      if (stop()) {
        stopped = true
        return
      }
      const i = next++
      try {
        await task(i)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker))
  if (failure) throw failure.err
  return { stopped }
}

/** Every path valid, and none twice, even ignoring case (one file on Windows and macOS). */
export function checkRels(rels: string[]): void {
  const keys = new Set<string>()
  for (const rel of rels) {
    checkRel(rel)
    const key = nameKey(rel)
    if (keys.has(key)) throw new Error(`Two export files share the path ${rel} (ignoring case)`)
    keys.add(key)
  }
}

/** Refuses a merge that would overwrite: every taken path, up to 5 named, before any write. */
async function findConflicts(root: string, rels: string[], dirs: string[]): Promise<string[]> {
  const conflicts: string[] = []
  const created: string[] = []
  await runPool(dirs.length, 16, async (i) => {
    const kind = await exists(join(root, dirs[i]))
    if (kind === 'file') conflicts.push(dirs[i])
    else if (kind === null) created.push(dirs[i])
  })
  await runPool(rels.length, 16, async (i) => {
    if (await exists(join(root, rels[i]))) conflicts.push(rels[i])
  })
  if (conflicts.length > 0) {
    conflicts.sort()
    const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''
    throw new ExportError(
      'exists',
      `${conflicts.length} path(s) of the export already exist in ${root} and would be ` +
        `overwritten: ${conflicts.slice(0, 5).join(', ')}${more}. Nothing was written; pick ` +
        'another folder or move those files away.',
    )
  }
  return created.sort((a, b) => a.split('/').length - b.split('/').length)
}

/** Checks the root for `mode` and returns the journal to write (or, for resume, the one found). */
export async function prepare(
  opts: WriteExportOptions,
  root: string,
  rels: string[],
): Promise<Journal> {
  const files = opts.files.map((f) => ({
    rel: f.rel,
    source: 'copy' in f.source ? `copy:${f.source.copy}:${f.source.sha256 ?? ''}` : 'bytes',
  }))
  const finalFiles = opts.finalFiles.map((f) => f.rel)
  const print = fingerprint({ files, finalFiles, extra: opts.fingerprint })
  const kind = await exists(root)
  if (opts.mode === 'resume') {
    const journal = kind === 'dir' ? await readJournal(root) : null
    if (!journal) {
      throw new ExportError('not_resumable', `There is no unfinished export in ${root} to resume.`)
    }
    if (journal.fingerprint !== print) {
      throw new ExportError(
        'not_resumable',
        `The unfinished export in ${root} was started with other images or settings; clean it ` +
          'up or export to another folder.',
      )
    }
    return journal
  }
  if (kind === 'file') throw new ExportError('not_empty', `${root} is a file, not a folder.`)
  const dirs = parentDirs(rels)
  const base = {
    app: 'synthfold',
    version: 1,
    fingerprint: print,
    files: rels,
    finalFiles,
  } as const
  if (opts.mode === 'new') {
    if (kind === 'dir' && (await readdir(root)).length > 0) {
      throw new ExportError(
        'not_empty',
        `${root} is not empty. Pick another folder (a new or empty one), or merge into this one.`,
      )
    }
    return { ...base, createdRoot: kind === null, createdDirs: dirs }
  }
  if (kind === 'dir' && (await readJournal(root))) {
    throw new ExportError(
      'not_empty',
      `${root} holds an unfinished export; resume it or clean it up before exporting into it again.`,
    )
  }
  const createdDirs =
    kind === null ? dirs : await findConflicts(root, [...rels, ...finalFiles], dirs)
  return { ...base, createdRoot: kind === null, createdDirs }
}
