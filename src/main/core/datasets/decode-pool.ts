import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { DecodeReply, DecodeRequest } from '../jobs/decode-worker'
import { workerFile } from '../jobs/worker-file'
import type { Geometry } from './decode'
import type { FileResult } from './decode-file'

/**
 * Decoder threads for large imports: one per core, fed batches of paths. Small imports decode
 * inline, where starting threads would cost more than it saves.
 */
export class DecodePool {
  private readonly workers: Worker[]
  private readonly pending = new Map<
    number,
    { resolve: (r: FileResult[]) => void; reject: (e: Error) => void }
  >()
  private nextId = 0
  private turn = 0

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    const spec = workerFile('decode-worker')
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(spec.file, { execArgv: spec.execArgv })
      w.on('message', (m: DecodeReply) => {
        this.pending.get(m.id)?.resolve(m.results)
        this.pending.delete(m.id)
      })
      w.on('error', (err) => this.failAll(err))
      return w
    })
  }

  get size(): number {
    return this.workers.length
  }

  decode(paths: string[], geo: Geometry): Promise<FileResult[]> {
    const id = this.nextId++
    const worker = this.workers[this.turn++ % this.workers.length]
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, paths, geo } satisfies DecodeRequest)
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values())
      p.reject(new Error(`A decoder thread failed: ${err.message}`))
    this.pending.clear()
  }
}
