import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { unpackPixels, type DecodeReply, type DecodeRequest } from './decode-reply'
import { workerFile } from '../util/worker-file'
import type { Geometry } from './decode'
import { decodeFile, type FileOutcome, type Known } from './decode-file'

export interface DecodeItem {
  path: string
  known: Known
}

/** From this many files on, decoding runs on decoder threads; below, starting them costs more. */
export const POOL_THRESHOLD = 1000
const BATCH = 128
const INLINE_LANES = 4

/**
 * Decodes every item, on the pool's decoder threads when there is a pool and enough items (below
 * that, starting threads costs more than it saves), calling `onResult` in batches as results
 * arrive (in any order). Stops scheduling new work once `shouldStop` says so and returns whether it
 * stopped early; work already handed out is still reported. The caller owns and closes the pool.
 */
export async function decodeAll(
  items: DecodeItem[],
  geo: Geometry,
  shouldStop: () => boolean,
  onResult: (indices: number[], outcomes: FileOutcome[]) => void,
  pool: DecodePool | null,
): Promise<boolean> {
  if (!pool || items.length < POOL_THRESHOLD) return decodeInline(items, geo, shouldStop, onResult)
  let stopped = false
  const inFlight = new Set<Promise<void>>()
  let next = 0
  while ((!stopped && next < items.length) || inFlight.size) {
    if (shouldStop()) stopped = true
    while (!stopped && next < items.length && inFlight.size < pool.size * 4) {
      const start = next
      const batch = items.slice(start, (next = Math.min(items.length, start + BATCH)))
      const p = pool.decode(batch, geo).then((outcomes) =>
        onResult(
          outcomes.map((_, i) => start + i),
          outcomes,
        ),
      )
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p)).catch(() => undefined)
    }
    if (inFlight.size) await Promise.race(inFlight)
  }
  return stopped
}

async function decodeInline(
  items: DecodeItem[],
  geo: Geometry,
  shouldStop: () => boolean,
  onResult: (indices: number[], outcomes: FileOutcome[]) => void,
): Promise<boolean> {
  let next = 0
  let stopped = false
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      if (shouldStop()) {
        stopped = true
        return
      }
      const i = next++
      onResult([i], [await decodeFile(items[i].path, geo, items[i].known)])
    }
  }
  await Promise.all(Array.from({ length: INLINE_LANES }, lane))
  return stopped
}

/** Decoder threads, one per core (at most 4); started early so they load while the tree is scanned. */
export class DecodePool {
  /** A pool worth starting for `expected` files on this machine, or null (decode inline). */
  static start(expected: number, threads = availableParallelism()): DecodePool | null {
    return expected >= POOL_THRESHOLD && threads >= 2 ? new DecodePool(Math.min(4, threads)) : null
  }

  private readonly workers: Worker[]
  private readonly pending = new Map<
    number,
    { resolve: (r: FileOutcome[]) => void; reject: (e: Error) => void }
  >()
  private nextId = 0
  private turn = 0

  private constructor(size: number) {
    const spec = workerFile('decode-worker', import.meta.url)
    this.workers = Array.from({ length: size }, () => {
      // A larger young generation: each file makes short-lived garbage, and fewer scavenges of
      // the same live set cost less.
      const w = new Worker(spec.file, {
        execArgv: spec.execArgv,
        resourceLimits: { maxYoungGenerationSizeMb: 32 },
      })
      w.on('message', (m: DecodeReply) => {
        this.pending.get(m.id)?.resolve(unpackPixels(m))
        this.pending.delete(m.id)
      })
      w.on('error', (err) => this.failAll(err))
      return w
    })
  }

  get size(): number {
    return this.workers.length
  }

  decode(items: DecodeItem[], geo: Geometry): Promise<FileOutcome[]> {
    const id = this.nextId++
    const worker = this.workers[this.turn++ % this.workers.length]
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      const req: DecodeRequest = {
        id,
        paths: items.map((i) => i.path),
        known: items.map((i) => i.known),
        geo,
      }
      worker.postMessage(req)
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
