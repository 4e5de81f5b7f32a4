import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { extname } from 'node:path'
import { decodeImage, type Decoded, type Geometry } from './decode'

export interface FileResult {
  sha256: string | null
  decoded: Decoded
}

/** Reads, hashes and decodes one file; every failure becomes a reason, never an exception. */
export async function decodeFile(absPath: string, geo: Geometry): Promise<FileResult> {
  let buf: Buffer
  try {
    // Synchronous on purpose: this runs in a worker thread, and small reads are much cheaper so.
    buf = readFileSync(absPath)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason =
      code === 'EACCES' || code === 'EPERM'
        ? 'could not be read: permission denied'
        : `could not be read (${code ?? String(err)})`
    return { sha256: null, decoded: { ok: false, reason } }
  }
  const sha256 = buf.length ? createHash('sha256').update(buf).digest('hex') : null
  return { sha256, decoded: await decodeImage(buf, extname(absPath).toLowerCase(), geo) }
}
