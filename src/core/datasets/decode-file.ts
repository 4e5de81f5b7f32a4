import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import * as crypto from 'node:crypto'
import { extname } from 'node:path'
import { decodeImage, type Decoded, type Geometry } from './decode'

/**
 * A read buffer reused from file to file by a caller that decodes one file at a time (a decoder
 * thread): nothing decoded keeps a reference to the file's bytes, so each file can overwrite them.
 */
export class Scratch {
  private buf = Buffer.allocUnsafe(64 * 1024)
  take(size: number): Buffer {
    if (size > this.buf.length && size <= 16 * 1024 * 1024) this.buf = Buffer.allocUnsafe(size)
    return size <= this.buf.length ? this.buf.subarray(0, size) : Buffer.allocUnsafe(size)
  }
}

/** What a previous import recorded for a file, to recognise it unchanged without reading it. */
/** Files above this size are refused before reading (no image a CVAE trains on needs more). */
export const MAX_FILE_BYTES = 1024 ** 3

export type Known = { size: number; mtimeMs: number } | null

export type FileOutcome =
  | { kind: 'unchanged'; size: number; mtimeMs: number }
  | { kind: 'read'; size: number; mtimeMs: number; sha256: string | null; decoded: Decoded }

/**
 * Stats (from the open descriptor), reads, hashes and decodes one file. Every failure becomes a
 * reason, never an exception. Synchronous file calls on purpose: this runs on worker threads,
 * where they cost a fraction of the promise-based ones for small files.
 */
export async function decodeFile(
  absPath: string,
  geo: Geometry,
  known: Known,
  scratch?: Scratch,
): Promise<FileOutcome> {
  let fd: number
  try {
    fd = openSync(absPath, 'r')
  } catch (err) {
    return unreadable(err)
  }
  let buf: Buffer
  let size: number
  let mtimeMs: number
  try {
    const st = fstatSync(fd)
    size = st.size
    mtimeMs = Math.trunc(st.mtimeMs)
    if (known && known.size === size && known.mtimeMs === mtimeMs)
      return { kind: 'unchanged', size, mtimeMs }
    if (size > MAX_FILE_BYTES) {
      const reason = `file is ${(size / 1024 ** 3).toFixed(1)} GiB, over the ${MAX_FILE_BYTES / 1024 ** 3} GiB limit`
      return { kind: 'read', size, mtimeMs, sha256: null, decoded: { ok: false, reason } }
    }
    buf = scratch ? scratch.take(size) : Buffer.allocUnsafe(size)
    let at = 0
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at)
      if (n === 0) break
      at += n
    }
    if (at < size) buf = buf.subarray(0, at)
  } catch (err) {
    return unreadable(err)
  } finally {
    closeSync(fd)
  }
  const sha256 = buf.length ? sha256Hex(buf) : null
  return {
    kind: 'read',
    size,
    mtimeMs,
    sha256,
    decoded: await decodeImage(buf, extname(absPath).toLowerCase(), geo),
  }
}

/** One-shot hash where Node has it (22+: no Hash object per file), else a Hash object. */
const sha256Hex: (buf: Buffer) => string =
  typeof crypto.hash === 'function'
    ? (buf) => crypto.hash('sha256', buf, 'hex')
    : (buf) => crypto.createHash('sha256').update(buf).digest('hex')

function unreadable(err: unknown): FileOutcome {
  const code = (err as NodeJS.ErrnoException).code
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? 'could not be read: permission denied'
      : code === 'ENOENT'
        ? 'it disappeared during the import'
        : code === 'EISDIR'
          ? 'is a folder with an image name'
          : `could not be read (${code ?? String(err)})`
  return { kind: 'read', size: 0, mtimeMs: 0, sha256: null, decoded: { ok: false, reason } }
}
