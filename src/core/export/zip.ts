/**
 * The whole export as one .zip, for sharing or uploading. yazl streams it (one source file open
 * at a time, so memory stays flat for any size), marks every name as UTF-8, and switches to
 * ZIP64 by itself past 65,535 entries or 4 GiB.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { extname, join, relative, resolve, sep } from 'node:path'
import { ZipFile } from 'yazl'
import { JOURNAL_NAME } from './journal'
import { exists } from './prepare'
import {
  ExportError,
  TEMP_SUFFIX,
  publishNoOverwrite,
  tempPathFor,
  toExportError,
} from './safe-write'

export interface ZipProgress {
  /** Entries whose content has been read into the archive. */
  done: number
  total: number
  /** Source bytes read so far, of `totalBytes`. */
  bytes: number
  totalBytes: number
}

/** Formats that are compressed already: deflating them again costs time and saves nothing. */
const STORED = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif', '.zip', '.gz'])

interface Entry {
  abs: string
  /** Forward slashes whatever the platform: ZIP requires them. */
  rel: string
  size: number
  mtime: Date
}

/** Regular files under `dir`, sorted by path, without our journal, temp files, or `skip`. */
async function listFiles(dir: string, skip: Set<string>): Promise<Entry[]> {
  const out: Entry[] = []
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true })
    for (const e of entries) {
      const abs = join(d, e.name)
      if (e.isDirectory()) await walk(abs)
      else if (e.isFile() && !e.name.endsWith(TEMP_SUFFIX) && !skip.has(abs)) {
        const st = await lstat(abs)
        out.push({
          abs,
          rel: relative(dir, abs).split(sep).join('/'),
          size: st.size,
          mtime: st.mtime,
        })
      }
    }
  }
  await walk(dir)
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  return out
}

/**
 * Writes every file under `dir` into a new zip at `outFile` (which may lie inside `dir`: it is
 * left out of itself). The archive is built under a temporary name and published only when
 * complete, never over an existing file (ExportError 'exists'). `shouldStop` is asked before each
 * entry; stopping removes the partial archive and throws ExportError 'cancelled'.
 */
export async function zipFolder(
  dir: string,
  outFile: string,
  onProgress?: (p: ZipProgress) => void,
  shouldStop?: () => boolean,
): Promise<{ entries: number; bytes: number }> {
  const root = resolve(dir)
  const target = resolve(outFile)
  if (await exists(target)) {
    throw new ExportError('exists', `${target} already exists; it was left as it is.`)
  }
  const files = await listFiles(root, new Set([target, join(root, JOURNAL_NAME)]))
  const totalBytes = files.reduce((s, f) => s + f.size, 0)
  const progress: ZipProgress = { done: 0, total: files.length, bytes: 0, totalBytes }
  const tmp = tempPathFor(target)
  try {
    await new Promise<void>((resolveDone, reject) => {
      const zip = new ZipFile()
      const out = createWriteStream(tmp, { flags: 'wx', flush: true })
      const fail = (err: unknown): void => {
        zip.outputStream.unpipe(out)
        out.destroy()
        reject(err)
      }
      zip.on('error', fail)
      out.on('error', fail)
      out.on('close', () => resolveDone())
      zip.outputStream.pipe(out)
      for (const f of files) {
        const compress = !STORED.has(extname(f.rel).toLowerCase())
        zip.addReadStreamLazy(f.rel, { compress, mtime: f.mtime, size: f.size }, (cb) => {
          if (shouldStop?.())
            return cb(new ExportError('cancelled', 'The zip was cancelled.'), null!)
          const input = createReadStream(f.abs)
          input.on('data', (chunk) => {
            progress.bytes += chunk.length
          })
          input.on('end', () => {
            progress.done++
            onProgress?.({ ...progress })
          })
          cb(null, input)
        })
      }
      zip.end()
    })
    await publishNoOverwrite(tmp, target)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw toExportError(err, target)
  }
  return { entries: files.length, bytes: totalBytes }
}
