/** Decoder thread of an import: turns batches of files into pixels, in parallel with the others. */
import { parentPort } from 'node:worker_threads'
import { decodeFile, type FileOutcome, type Known } from '../datasets/decode-file'
import type { Geometry } from '../datasets/decode'

export interface DecodeRequest {
  id: number
  paths: string[]
  known: Known[]
  geo: Geometry
}
export interface DecodeReply {
  id: number
  outcomes: FileOutcome[]
}

const port = parentPort!
port.on('message', async (req: DecodeRequest) => {
  const outcomes: FileOutcome[] = []
  for (let i = 0; i < req.paths.length; i++)
    outcomes.push(await decodeFile(req.paths[i], req.geo, req.known[i]))
  // Hand the pixel buffers over instead of copying them.
  const transfer = new Set<ArrayBuffer>()
  for (const o of outcomes) {
    if (o.kind !== 'read' || !o.decoded.ok) continue
    transfer.add(o.decoded.pixels.buffer as ArrayBuffer)
    if (o.decoded.thumb) transfer.add(o.decoded.thumb.buffer as ArrayBuffer)
  }
  port.postMessage(
    { id: req.id, outcomes } satisfies DecodeReply,
    [...transfer].filter((b) => b.byteLength > 0),
  )
})
