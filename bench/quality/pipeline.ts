// The default path a new user takes, through the app's own core: import a folder, train a run
// with the defaults (or given settings), generate with the defaults, and read back what was
// accepted. Shared by the quality benches.
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { readPng } from '../../src/core/generation/generate'
import type { GenerationSummary } from '../../src/shared/generation'
import type { RunSummary } from '../../src/shared/runs'

export interface DefaultPath {
  datasetId: number
  run: RunSummary
  generation: GenerationSummary
  /** Accepted samples per class index (decoded PNG pixels at the dataset's channels). */
  accepted: Map<number, Uint8Array[]>
  seconds: { import: number; train: number; generate: number }
}

const secondsSince = (t: number): number => (Date.now() - t) / 1000

export async function runDefaultPath(
  home: string,
  folder: string,
  o: { settings?: object; generation?: object; log?: (line: string) => void } = {},
): Promise<DefaultPath> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`))
  const core = new Core({ home, shell: 'cli' })
  try {
    const t0 = Date.now()
    const datasetId = await new Promise<number>((resolve, reject) => {
      core.on('job', (e) =>
        e.type === 'done'
          ? resolve(e.result.datasetId)
          : e.type === 'failed'
            ? reject(new Error(e.error.message))
            : undefined,
      )
      void core.call('datasets.import', { path: folder }).then((r) => {
        if (!r.ok) reject(new Error(r.error.message))
      })
    })
    const tImport = secondsSince(t0)
    const t1 = Date.now()
    const run = await new Promise<RunSummary>((resolve, reject) => {
      let id = 0
      core.on('run', (e) => {
        if (e.type === 'status' && e.run.id === id && e.run.status !== 'running') {
          if (e.run.status === 'completed') resolve(e.run)
          else reject(new Error(`run ${e.run.status}: ${e.run.error}`))
        }
      })
      void core.call('runs.start', { datasetId, settings: o.settings ?? {} }).then((r) => {
        if (!r.ok) reject(new Error(r.error.message))
        else id = r.value.id
      })
    })
    const tTrain = secondsSince(t1)
    log(
      `  trained ${run.epochsDone} of ${run.settings.epochs} epochs in ${tTrain.toFixed(0)} s (${run.status})`,
    )
    const t2 = Date.now()
    const generation = await new Promise<GenerationSummary>((resolve, reject) => {
      let id = 0
      core.on('generation', (e) => {
        if (e.type === 'status' && e.generation.id === id && e.generation.status !== 'running')
          resolve(e.generation)
      })
      void core.call('generations.start', { runId: run.id, ...(o.generation ?? {}) }).then((r) => {
        if (!r.ok) reject(new Error(r.error.message))
        else id = r.value.id
      })
    })
    const tGenerate = secondsSince(t2)
    const ds = await core.call('datasets.get', { id: datasetId })
    if (!ds.ok) throw new Error(ds.error.message)
    const channels = ds.value.channels === 'gray' ? 1 : ds.value.channels === 'rgb' ? 3 : 4
    const read = async (
      classIndex: number,
      status: 'accepted' | undefined,
      limit: number,
    ): Promise<Uint8Array[]> => {
      const imgs: Uint8Array[] = []
      for (let offset = 0; imgs.length < limit; offset += 2000) {
        const r = await core.call('samples.list', {
          generationId: generation.id,
          classIndex,
          ...(status ? { status } : {}),
          offset,
          limit: 2000,
        })
        if (!r.ok) throw new Error(r.error.message)
        for (const s of r.value.items.slice(0, limit - imgs.length)) {
          const d = await core.call('samples.get', { sampleId: s.id })
          if (d.ok)
            imgs.push(await readPng(join(generation.folder, 'samples', d.value.file), channels))
        }
        if (r.value.items.length < 2000) break
      }
      return imgs
    }
    const accepted = new Map<number, Uint8Array[]>()
    for (const c of generation.classes) {
      accepted.set(c.classIndex, await read(c.classIndex, 'accepted', Infinity))
    }
    return {
      datasetId,
      run,
      generation,
      accepted,
      seconds: { import: tImport, train: tTrain, generate: tGenerate },
    }
  } finally {
    await core.close()
  }
}

/** Euclidean distance of two images in [0, 1] units. */
export function pixelDistance(a: Uint8Array, b: Uint8Array): number {
  let s = 0
  for (let k = 0; k < a.length; k++) s += ((a[k] - b[k]) / 255) ** 2
  return Math.sqrt(s)
}

/** Mean pairwise distance of up to 150 images (a diversity measure). */
export function meanPairwise(imgs: Uint8Array[]): number {
  const n = Math.min(imgs.length, 150)
  let sum = 0
  let k = 0
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      sum += pixelDistance(imgs[i], imgs[j])
      k++
    }
  return k ? sum / k : NaN
}

/**
 * Near-copies of real images (closer to the nearest real image of the class than half the median
 * real-to-real nearest distance) and diversity against the real images, per class.
 */
export function copiesAndDiversity(
  samples: Uint8Array[],
  real: Uint8Array[],
): { copies: number; diversity: number } {
  const nearest = (x: Uint8Array, skip?: number): number =>
    real.reduce((m, r, i) => (i === skip ? m : Math.min(m, pixelDistance(x, r))), Infinity)
  const realNN = real
    .slice(0, 200)
    .map((r, i) => nearest(r, i))
    .sort((a, b) => a - b)
  const typical = realNN[Math.floor(realNN.length / 2)]
  const copies = samples.filter((x) => nearest(x) < 0.5 * typical).length
  return { copies, diversity: meanPairwise(samples) / meanPairwise(real) }
}
