/**
 * Writing files that are never half there and never replace anything: bytes go to a temporary
 * file beside the target, are flushed to disk, and only then appear under the final name, by a
 * hard link that fails if the name is taken. A crash or a kill at any moment leaves the final
 * name either absent or holding the complete file, plus at worst a `*.synthfold-tmp` leftover
 * that {@link removeTemps} recognises.
 */
import { createHash, randomBytes } from 'node:crypto'
import { link, lstat, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export type ExportErrorCode =
  | 'exists'
  | 'disk_full'
  | 'permission'
  | 'read_only'
  | 'io'
  | 'cancelled'
  | 'not_empty'
  | 'source_changed'
  /** `resume` found no unfinished export, or one of a different job. */
  | 'not_resumable'

/** An export failure whose message can be shown to a person as it is. */
export class ExportError extends Error {
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'ExportError'
  }
}

/** Suffix of every temporary file the export creates; nothing else may end with it. */
export const TEMP_SUFFIX = '.synthfold-tmp'

/** Error codes of `link` on file systems without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'])

const CHUNK = 1 << 20

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Maps a Node file-system error on `path` to an {@link ExportError} with a readable message. */
export function toExportError(err: unknown, path: string): ExportError {
  if (err instanceof ExportError) return err
  const code = errnoCode(err)
  const detail = err instanceof Error ? err.message : String(err)
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ExportError('disk_full', `The disk is full: could not write ${path}.`, {
        cause: err,
      })
    case 'EACCES':
    case 'EPERM':
      return new ExportError('permission', `Permission denied: could not write ${path}.`, {
        cause: err,
      })
    case 'EROFS':
      return new ExportError('read_only', `The disk is read-only: could not write ${path}.`, {
        cause: err,
      })
    default:
      return new ExportError('io', `Could not write ${path}: ${detail}`, { cause: err })
  }
}

/** A fresh temporary name in the directory of `finalPath`, so publishing it is a same-disk link. */
export function tempPathFor(finalPath: string): string {
  const rand = randomBytes(6).toString('hex')
  return join(dirname(finalPath), `.${basename(finalPath)}.${rand}${TEMP_SUFFIX}`)
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false
    throw err
  }
}

const existsError = (path: string): ExportError =>
  new ExportError('exists', `${path} already exists; it was left as it is.`)

/**
 * Gives the complete file `tmp` the name `finalPath` unless that name is taken. `link` is the
 * atomic "create if absent"; where hard links are unsupported, a check then `rename` is the best
 * the platform offers (a file created between the two by another program would be replaced).
 */
export async function publishNoOverwrite(tmp: string, finalPath: string): Promise<void> {
  try {
    await link(tmp, finalPath)
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'EEXIST') {
      await unlink(tmp).catch(() => undefined)
      throw existsError(finalPath)
    }
    if (!code || !NO_HARD_LINKS.has(code)) throw err
    if (await exists(finalPath)) {
      await unlink(tmp).catch(() => undefined)
      throw existsError(finalPath)
    }
    await rename(tmp, finalPath)
    return
  }
  await unlink(tmp)
}

/**
 * Writes into a new temporary file beside `finalPath` with `fill`, flushes it, and publishes it.
 * On any failure the temporary file is removed and the error mapped to an {@link ExportError}.
 */
async function writeVia(finalPath: string, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(finalPath)
  let fh: FileHandle | undefined
  try {
    fh = await open(tmp, 'wx')
    await fill(fh)
    await fh.sync()
    await fh.close()
    fh = undefined
    await publishNoOverwrite(tmp, finalPath)
  } catch (err) {
    await fh?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    throw toExportError(err, finalPath)
  }
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off)
    off += bytesWritten
  }
}

/** Writes `data` as a new file at `path`; ExportError 'exists' if the name is taken. */
export async function writeNew(path: string, data: Buffer | Uint8Array): Promise<void> {
  await writeVia(path, (fh) => writeAll(fh, data))
}

/**
 * Copies `src` byte for byte to a new file at `dst`, hashing what it copies. When
 * `expectedSha256` is given and the source no longer has it (edited or replaced since it was
 * imported), nothing is published and ExportError 'source_changed' is thrown.
 */
export async function copyNew(
  src: string,
  dst: string,
  expectedSha256?: string | null,
): Promise<{ sha256: string; bytes: number }> {
  let input: FileHandle
  try {
    input = await open(src, 'r')
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new ExportError('source_changed', `The source file ${src} no longer exists.`, {
        cause: err,
      })
    }
    throw new ExportError('io', `Could not read ${src}: ${(err as Error).message}`, { cause: err })
  }
  const hash = createHash('sha256')
  let bytes = 0
  try {
    await writeVia(dst, async (out) => {
      const buf = Buffer.allocUnsafe(CHUNK)
      for (;;) {
        let n: number
        try {
          n = (await input.read(buf, 0, CHUNK, null)).bytesRead
        } catch (err) {
          throw new ExportError('io', `Could not read ${src}: ${(err as Error).message}`, {
            cause: err,
          })
        }
        if (n === 0) break
        hash.update(buf.subarray(0, n))
        bytes += n
        await writeAll(out, buf.subarray(0, n))
      }
      if (expectedSha256 && hash.copy().digest('hex') !== expectedSha256) {
        throw new ExportError(
          'source_changed',
          `The source file ${src} changed since it was imported; it was not copied.`,
        )
      }
    })
  } finally {
    await input.close().catch(() => undefined)
  }
  return { sha256: hash.digest('hex'), bytes }
}

/** SHA-256 (hex) of a file's content, read in chunks. */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const fh = await open(path, 'r')
  try {
    const hash = createHash('sha256')
    const buf = Buffer.allocUnsafe(CHUNK)
    let bytes = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      bytes += bytesRead
    }
    return { sha256: hash.digest('hex'), bytes }
  } finally {
    await fh.close()
  }
}

/**
 * Removes every `*.synthfold-tmp` file under `dir` (recursively, without following symbolic
 * links): the leftovers of writes that a kill interrupted. Returns how many it removed.
 */
export async function removeTemps(dir: string): Promise<number> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return 0
    throw err
  }
  let removed = 0
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) removed += await removeTemps(p)
    else if (e.isFile() && e.name.endsWith(TEMP_SUFFIX)) {
      await unlink(p).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err
      })
      removed++
    }
  }
  return removed
}
