/**
 * 2-D coordinates for a map of feature vectors: PCA (pca.ts), or UMAP through umap-js (PAIR-code),
 * fitted on the real images only; extra points (a generation's samples) are placed on the fitted
 * map afterwards, so toggling them never moves the real images.
 */
import { UMAP } from 'umap-js'
import type { MapMethod } from '../../shared/studio'
import { rng } from '../util/random'
import { CancelledError, fitPca, projectPca } from './pca'

/** UMAP reads this many PCA dimensions of wider features: neighbours are found in seconds, not minutes. */
export const UMAP_INPUT_DIMS = 50

export interface MapHooks {
  seed: number
  progress: (phase: 'projecting' | 'placing', done: number, total: number) => void
  shouldStop: () => boolean
}

export interface MapCoordinates {
  real: Float64Array[]
  extra: Float64Array[]
}

export async function mapCoordinates(
  rows: Float32Array[],
  extra: Float32Array[],
  method: MapMethod,
  hooks: MapHooks,
): Promise<MapCoordinates> {
  if (rows.length === 0) throw new Error('There are no images to map.')
  // below a handful of points a neighbourhood graph means nothing: PCA places them
  if (method === 'pca' || rows.length < 5) {
    hooks.progress('projecting', 0, 1)
    const p = fitPca(rows, 2, { seed: hooks.seed, shouldStop: hooks.shouldStop })
    hooks.progress('projecting', 1, 1)
    return { real: pad2(projectPca(p, rows)), extra: pad2(projectPca(p, extra)) }
  }
  let input: ArrayLike<number>[] = rows
  let extraInput: ArrayLike<number>[] = extra
  if (rows[0].length > UMAP_INPUT_DIMS) {
    const p = fitPca(rows, UMAP_INPUT_DIMS, {
      seed: hooks.seed,
      iterations: 4,
      shouldStop: hooks.shouldStop,
    })
    input = projectPca(p, rows)
    extraInput = projectPca(p, extra)
  }
  const n = rows.length
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(15, n - 1),
    minDist: 0.1,
    // fewer epochs on large sets, as umap-learn does (200 above 10,000 points)
    nEpochs: n > 10_000 ? 200 : 400,
    random: rng(hooks.seed),
  })
  const data = input.map((r) => Array.from(r))
  const epochs = umap.initializeFit(data)
  for (let e = 0; e < epochs; e++) {
    umap.step()
    if (e % 10 === 0) {
      hooks.progress('projecting', e, epochs)
      // let a cancel message in
      await new Promise((r) => setImmediate(r))
      if (hooks.shouldStop()) throw new CancelledError()
    }
  }
  hooks.progress('projecting', epochs, epochs)
  const real = umap.getEmbedding().map((p) => Float64Array.from(p))
  let placed: Float64Array[] = []
  if (extraInput.length) {
    hooks.progress('placing', 0, extraInput.length)
    placed = umap.transform(extraInput.map((r) => Array.from(r))).map((p) => Float64Array.from(p))
    hooks.progress('placing', extraInput.length, extraInput.length)
  }
  return { real, extra: placed }
}

/** One-dimensional features give one component: the map puts them on a line. */
function pad2(points: Float64Array[]): Float64Array[] {
  return points.map((p) => (p.length >= 2 ? p : Float64Array.from([p[0] ?? 0, 0])))
}
