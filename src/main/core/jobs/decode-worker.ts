/** Decoder thread of an import: turns batches of file paths into pixels, in parallel with others. */
import { parentPort } from 'node:worker_threads'
import { decodeFile, type FileResult } from '../datasets/decode-file'
import type { Geometry } from '../datasets/decode'

export interface DecodeRequest {
  id: number
  paths: string[]
  geo: Geometry
}
export interface DecodeReply {
  id: number
  results: FileResult[]
}

const port = parentPort!
port.on('message', async (req: DecodeRequest) => {
  const results: FileResult[] = []
  for (const p of req.paths) results.push(await decodeFile(p, req.geo))
  const transfer: ArrayBuffer[] = []
  for (const r of results) {
    if (!r.decoded.ok) continue
    transfer.push(r.decoded.pixels.buffer as ArrayBuffer)
    if (r.decoded.thumb) transfer.push(r.decoded.thumb.buffer as ArrayBuffer)
  }
  port.postMessage(
    { id: req.id, results } satisfies DecodeReply,
    transfer.filter((b, i, all) => all.indexOf(b) === i && b.byteLength > 0),
  )
})
