import { statSync } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { Database } from 'better-sqlite3'
import type { ImportRequest, ImportSummary, JobPhase } from '../../shared/types'
import { AppError } from '../../shared/result'
import type { DatasetRow } from '../db/datasets-repo'
import { assertFolderFree, datasetDir, folderInUse } from '../util/paths'
import { channelCount } from '../../shared/types'
import type { Geometry } from './decode'
import { decodeAll, DecodePool, type DecodeItem } from './decode-pool'
import { chooseGeometry } from './geometry'
import { datasetBusy, importedElsewhere, ImportsRepo } from '../db/imports-repo'
import { failImport } from './import-failure'
import { ImportWriter } from './import-writer'
import { scanTree, type Candidate, type ScanResult } from './scan'
import { PixelStore, ThumbPack, removeStoreFiles } from './store'

export interface ImportHooks {
  progress(phase: JobPhase, done: number, total: number): void
  shouldStop(): boolean
  onDataset?(datasetId: number): void
}

/** Decoding progress goes out at most this often (each report is a message to the app). */
const PROGRESS_MS = 100

const OUTSIDE_CLASS = 'not inside a class folder (put images in one subfolder per class)'

/** Checks a folder before any job starts, so a bad path is refused at once with a clear message. */
export async function resolveImportRoot(path: string): Promise<string> {
  let real: string
  try {
    real = await realpath(path)
  } catch {
    throw new AppError('not_found', `Folder not found: ${path}`)
  }
  if (!(await stat(real)).isDirectory()) {
    throw new AppError(
      'invalid_argument',
      `Not a folder: ${path}. Choose the folder that holds one subfolder per class.`,
    )
  }
  return real
}

/**
 * Imports (or re-imports) a labeled folder tree into the dataset for that folder. Unchanged files
 * (same size and modification time) are not read again; changed files get new pixel records; files
 * gone from disk are dropped. Writes are committed in batches, so stopping at any point (cancel,
 * crash, kill) leaves a consistent database, and importing again continues.
 */
export async function runImport(
  db: Database,
  home: string,
  req: ImportRequest,
  hooks: ImportHooks,
): Promise<ImportSummary> {
  const started = Date.now()
  const root = await resolveImportRoot(req.path)
  // Refused early here, before the scan, when the lock is plainly held; repo.begin takes it.
  const repo = new ImportsRepo(db)
  const previous = repo.byRoot(root)
  if (previous && importedElsewhere(previous))
    throw new AppError('conflict', datasetBusy(previous.import_pid))

  hooks.progress('scanning', 0, 0)
  // Decoder threads start loading as soon as the scan has found enough files to need them.
  const decoders: { pool: DecodePool | null } = { pool: null }
  try {
    const scan = scanTree(
      root,
      (n) => {
        decoders.pool ??= DecodePool.start(n)
        hooks.progress('scanning', n, 0)
      },
      hooks.shouldStop,
    )
    return await importScanned(repo, home, req, hooks, { started, root, scan }, decoders.pool)
  } finally {
    await decoders.pool?.close()
  }
}

async function importScanned(
  repo: ImportsRepo,
  home: string,
  req: ImportRequest,
  hooks: ImportHooks,
  { started, root, scan }: { started: number; root: string; scan: ScanResult },
  pool: DecodePool | null,
): Promise<ImportSummary> {
  const inClass = scan.candidates.filter((c) => c.classFolder !== null)
  const sampled =
    req.size && req.channels ? null : await chooseGeometry(inClass.map((c) => c.absPath))
  const { dataset, geometryChanged, created } = repo.begin(root, req, () => sampled!)
  const dir = datasetDir(home, dataset.id)
  if (created && folderInUse(dir)) {
    // Left by a dataset whose row is gone (a replaced database): its pixels are not ours to reuse.
    repo.forget(dataset.id)
    assertFolderFree(dir, 'dataset')
  }
  try {
    hooks.onDataset?.(dataset.id)
    return await fillDataset(
      repo,
      home,
      hooks,
      dataset,
      geometryChanged,
      { started, scan, inClass },
      pool,
    )
  } catch (err) {
    throw failImport(repo, home, dataset.id, err)
  }
}

/** The import proper, once this process holds the dataset's import lock. */
async function fillDataset(
  repo: ImportsRepo,
  home: string,
  hooks: ImportHooks,
  dataset: DatasetRow,
  geometryChanged: boolean,
  { started, scan, inClass }: { started: number; scan: ScanResult; inClass: Candidate[] },
  pool: DecodePool | null,
): Promise<ImportSummary> {
  const geo: Geometry = { size: dataset.size, channels: dataset.channels, fit: dataset.fit }
  const dir = datasetDir(home, dataset.id)
  const channels = channelCount(geo.channels)
  const store = new PixelStore(
    PixelStore.fileFor(dir, dataset.store_generation, geo.size, channels),
    geo.size * geo.size * channels,
  )
  const thumbs = new ThumbPack(ThumbPack.fileFor(dir, dataset.store_generation))
  if (geometryChanged) removeStoreFiles(dir, [store.file, thumbs.file])

  const classIds = repo.ensureClasses(dataset.id, scan.classFolders)
  const existing = repo.existingRows(dataset.id)
  const writer = new ImportWriter(repo, dataset.id, store, thumbs, existing)
  const seen = new Set<string>([
    ...scan.candidates.map((c) => c.relPath),
    ...scan.problems.map((p) => p.relPath),
  ])
  for (const p of scan.problems) writer.skip(p.relPath, null, p.reason)
  for (const c of scan.candidates) if (c.classFolder === null) skipOutsideClass(writer, c)

  // Files whose last import is still valid are checked by size and time only.
  const classOf = (c: Candidate): number => classIds.get(c.classFolder!)!
  const items: DecodeItem[] = inClass.map((c) => {
    const old = existing.get(c.relPath)
    const reusable =
      old && old.class_id === classOf(c) && (old.status === 'skipped' || old.slot !== null)
    return {
      path: c.absPath,
      known: reusable ? { size: old.file_size, mtimeMs: old.mtime_ms } : null,
    }
  })

  let done = 0
  let lastReport = 0
  hooks.progress('decoding', 0, items.length)
  let stopped: boolean
  try {
    stopped = await decodeAll(
      items,
      geo,
      hooks.shouldStop,
      (indices, outcomes) => {
        indices.forEach((i, k) =>
          writer.record(inClass[i].relPath, classOf(inClass[i]), outcomes[k]),
        )
        done += indices.length
        const now = performance.now()
        if (now - lastReport >= PROGRESS_MS || done === items.length) {
          lastReport = now
          hooks.progress('decoding', done, items.length)
        }
      },
      pool,
    )
    writer.flush()
  } finally {
    store.close()
    thumbs.close()
  }

  stopped ||= hooks.shouldStop()
  hooks.progress('finishing', done, items.length)
  const removed = stopped ? 0 : repo.removeMissing(dataset.id, existing, seen, scan.classFolders)
  const summary = repo.summary(dataset.id, {
    added: writer.added,
    changed: writer.changed,
    removed,
    unchanged: writer.unchanged,
    ignored: scan.ignored,
    cancelled: stopped,
    seconds: (Date.now() - started) / 1000,
  })
  repo.finish(summary)
  return summary
}

/** Images lying in the root belong to no class: reported, not decoded. */
function skipOutsideClass(writer: ImportWriter, c: Candidate): void {
  let size = 0
  let mtimeMs = 0
  try {
    const st = statSync(c.absPath)
    size = st.size
    mtimeMs = Math.trunc(st.mtimeMs)
  } catch {
    // reported below all the same
  }
  writer.skip(c.relPath, null, OUTSIDE_CLASS, size, mtimeMs)
}
