import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import * as crypto from 'node:crypto'
import { extname } from 'node:path'
import {
  decodeImage,
  notAnImage,
  SNIFF_BYTES,
  SVG_REASON,
  type Decoded,
  type Geometry,
} from './decode'
import { sniffFormat } from './formats'

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
    // The format is told by the first bytes: content that is not an image is refused before any
    // more is read or allocated, so a 1 GB file with an image name costs one small read.
    const head = Buffer.allocUnsafe(Math.min(size, SNIFF_BYTES))
    let at = fill(fd, head, 0, head.length)
    const refused = at === 0 ? null : refuseContent(head.subarray(0, at), absPath)
    if (refused) return { kind: 'read', size, mtimeMs, sha256: null, decoded: refused }
    buf = scratch ? scratch.take(size) : Buffer.allocUnsafe(size)
    head.copy(buf, 0, 0, at)
    if (at === SNIFF_BYTES) at = fill(fd, buf, at, size)
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

/** Reads into buf[at, end) from the same offset of the file; returns where the bytes end. */
function fill(fd: number, buf: Buffer, at: number, end: number): number {
  while (at < end) {
    const n = readSync(fd, buf, at, end - at, at)
    if (n === 0) break
    at += n
  }
  return at
}

/** A file whose first bytes are no image format Synthfold decodes, with the reason; else null. */
function refuseContent(head: Buffer, absPath: string): Decoded | null {
  const format = sniffFormat(head)
  if (format === 'svg') return { ok: false, reason: SVG_REASON }
  if (format !== null) return null
  const ext = extname(absPath).toLowerCase()
  return { ok: false, reason: notAnImage(ext) }
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
