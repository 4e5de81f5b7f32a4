/** Decoder thread of an import: turns batches of files into pixels, in parallel with the others. */
import { parentPort } from 'node:worker_threads'
import { decodeFile, Scratch, type FileOutcome } from '../datasets/decode-file'
import { packPixels, type DecodeRequest } from './decode-reply'

const port = parentPort!
// Files are decoded one after another here, so one read buffer serves them all.
const scratch = new Scratch()
port.on('message', async (req: DecodeRequest) => {
  const outcomes: FileOutcome[] = []
  for (let i = 0; i < req.paths.length; i++)
    outcomes.push(await decodeFile(req.paths[i], req.geo, req.known[i], scratch))
  // Hand the pixel buffer and thumbnails over instead of copying them.
  const reply = packPixels(req.id, outcomes)
  port.postMessage(reply, [reply.pixels, ...reply.thumbs])
})
