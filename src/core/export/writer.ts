/**
 * The export engine: writes a list of files under a root folder so that, whatever happens, every
 * file under its final name is complete, nothing that was there before is replaced, and an
 * interrupted export can be resumed to the same bytes or cleaned up to exactly what was there.
 * The journal (journal.ts) records the intent first; files are published one by one with the
 * no-overwrite rule (safe-write.ts); the manifests are written last and the journal removed.
 */
import { createHash } from 'node:crypto'
import { mkdir, rmdir, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { RateMeter } from '../util/rate-meter'
import type { ExportFile, WriteExportOptions, WrittenFile } from './files'
import { journalPath, parentDirs, readJournal, writeJournal } from './journal'
import { checkRels, exists, prepare, runPool } from './prepare'
import {
  ExportError,
  copyNew,
  removeTemps,
  sha256File,
  toExportError,
  writeNew,
} from './safe-write'

export interface ExportResult {
  /** Every data file of the export, in `files` order, whether written now or kept by a resume. */
  written: WrittenFile[]
  /** How many of them a resume found already complete and kept. */
  skipped: number
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/**
 * A file already under its final name in a resumed export: kept if it has the expected bytes.
 * Complete by construction, but its source may have changed since; checking costs one read (and,
 * for produced bytes, producing them again), which a resume can afford.
 */
async function keep(root: string, f: ExportFile): Promise<WrittenFile | null> {
  const path = join(root, f.rel)
  if (!(await exists(path))) return null
  const have = await sha256File(path)
  const want =
    'copy' in f.source
      ? (f.source.sha256 ?? (await sha256File(f.source.copy).catch(() => null))?.sha256)
      : sha256(await f.source.bytes())
  if (have.sha256 !== want) {
    throw new ExportError(
      'source_changed',
      `${path} differs from what the export would write now: its source changed since the export ` +
        'started.',
    )
  }
  return { rel: f.rel, ...have }
}

async function write(root: string, f: ExportFile): Promise<WrittenFile> {
  const path = join(root, f.rel)
  if ('copy' in f.source)
    return { rel: f.rel, ...(await copyNew(f.source.copy, path, f.source.sha256)) }
  const data = await f.source.bytes()
  await writeNew(path, data)
  return { rel: f.rel, sha256: sha256(data), bytes: data.length }
}

/**
 * Writes an export (see {@link WriteExportOptions} for the modes): journal first, then the data
 * files, then `finalFiles` in order, then the journal is removed. Any failure is an
 * {@link ExportError} whose message says how many files were written and that the export can be
 * resumed ({@link writeExport} with mode 'resume') or cleaned up ({@link cleanupExport}).
 */
export async function writeExport(opts: WriteExportOptions): Promise<ExportResult> {
  const root = resolve(opts.root)
  const rels = opts.files.map((f) => f.rel)
  checkRels([...rels, ...opts.finalFiles.map((f) => f.rel)])
  const journal = await prepare(opts, root, rels)
  const total = opts.files.length
  const written: WrittenFile[] = new Array(total)
  let done = 0
  let skipped = 0
  let bytes = 0
  const meter = new RateMeter()
  meter.update(0)
  const resumable = (msg: string): string =>
    `${msg} ${done} of ${total} files were written; the export can be resumed or cleaned up.`
  if (opts.mode !== 'resume') {
    try {
      await mkdir(root, { recursive: true })
      await writeJournal(root, journal)
    } catch (err) {
      // Nothing is written yet, and without a journal there is nothing to resume: undo the folder.
      if (journal.createdRoot) await rmdir(root).catch(() => undefined)
      throw toExportError(err, journalPath(root))
    }
  }
  try {
    if (opts.mode === 'resume') await removeTemps(root)
    for (const dir of parentDirs(rels)) {
      const path = join(root, dir)
      await mkdir(path, { recursive: true }).catch((err: unknown) => {
        throw toExportError(err, path)
      })
    }
    const { stopped } = await runPool(
      total,
      opts.concurrency ?? 4,
      async (i) => {
        const f = opts.files[i]
        const kept = opts.mode === 'resume' ? await keep(root, f) : null
        if (kept) skipped++
        written[i] = kept ?? (await write(root, f))
        done++
        bytes += written[i].bytes
        meter.update(done)
        opts.onProgress?.({
          done,
          total,
          bytes,
          rate: meter.rate(),
          etaSeconds: meter.eta(done, total),
        })
      },
      opts.shouldStop,
    )
    if (stopped) throw new ExportError('cancelled', 'The export was cancelled.')
    for (const f of opts.finalFiles) {
      const path = join(root, f.rel)
      const data = await f.bytes(written)
      const have = opts.mode === 'resume' && (await exists(path)) ? await sha256File(path) : null
      if (have && have.sha256 !== sha256(data)) {
        throw new ExportError('source_changed', `${path} differs from what the export writes now.`)
      }
      if (!have) await writeNew(path, data)
    }
    await unlink(journalPath(root))
  } catch (err) {
    const e = toExportError(err, root)
    throw new ExportError(e.code, resumable(e.message), { cause: e.cause ?? err })
  }
  return { written, skipped }
}

/**
 * Undoes an unfinished export in `root`: removes its temporary files, every file the journal
 * lists, the folders it created once they are empty, the journal, and the root if the export
 * created it and it is now empty. Nothing the journal does not list is removed, so other files
 * in a merged folder survive. Without a journal only temporary files are removed.
 */
export async function cleanupExport(
  root: string,
): Promise<{ removedFiles: number; removedDirs: number }> {
  const dir = resolve(root)
  await removeTemps(dir)
  const journal = await readJournal(dir)
  let removedFiles = 0
  let removedDirs = 0
  if (!journal) return { removedFiles, removedDirs }
  for (const rel of [...journal.files, ...journal.finalFiles]) {
    try {
      await unlink(join(dir, rel))
      removedFiles++
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw toExportError(err, join(dir, rel))
    }
  }
  const dirs = [...journal.createdDirs].sort((a, b) => b.split('/').length - a.split('/').length)
  const rmEmpty = async (path: string): Promise<boolean> =>
    rmdir(path).then(
      () => true,
      (err: { code?: string }) => {
        if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(err.code ?? '')) return false
        throw toExportError(err, path)
      },
    )
  for (const rel of dirs) if (await rmEmpty(join(dir, rel))) removedDirs++
  await unlink(journalPath(dir))
  if (journal.createdRoot) await rmEmpty(dir)
  return { removedFiles, removedDirs }
}
