/** Decoder thread of an import: turns batches of files into pixels, in parallel with the others. */
import { parentPort } from 'node:worker_threads'
import { decodeFile, Scratch, type FileOutcome } from './decode-file'
import { packPixels, type DecodeRequest } from './decode-reply'

const port = parentPort!
// Files are decoded one after another here, so one read buffer serves them all.
const scratch = new Scratch()
/**
 * Fault injection for the interruption tests: SYNTHFOLD_FAULT=slow-import@MS makes each batch take
 * MS milliseconds longer here, so a test can stop an import part way however fast the machine is.
 */
const slow = /^slow-import@(\d+)$/.exec(process.env.SYNTHFOLD_FAULT ?? '')

async function decodeBatch(req: DecodeRequest): Promise<void> {
  if (slow) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(slow[1]))
  const outcomes: FileOutcome[] = []
  for (let i = 0; i < req.paths.length; i++)
    outcomes.push(await decodeFile(req.paths[i], req.geo, req.known[i], scratch))
  // Hand the pixel buffer and thumbnails over instead of copying them.
  const reply = packPixels(req.id, outcomes)
  port.postMessage(reply, [reply.pixels, ...reply.thumbs])
}

// Batches queue up here (the pool keeps several in flight per thread) and run strictly one after
// another: the read buffer is shared, and sharp reads a file's bytes after an await.
let queue = Promise.resolve()
port.on('message', (req: DecodeRequest) => {
  queue = queue.then(() => decodeBatch(req))
})
