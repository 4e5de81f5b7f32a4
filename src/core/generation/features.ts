import * as tf from '@tensorflow/tfjs-core'

/** Images are compared at most this many pixels a side: enough to tell a copy, cheap at 20,000 samples. */
export const FEATURE_SIDE = 32

/**
 * Box-averaged pixels in [0, 1], at most FEATURE_SIDE a side (every channel kept). Distances
 * between these stand for "how alike two images look" in the novelty and duplicate scores.
 */
export function features(img: Uint8Array, size: number, channels: number): Float32Array {
  const f = Math.max(1, Math.ceil(size / FEATURE_SIDE))
  const side = Math.floor(size / f)
  const out = new Float32Array(side * side * channels)
  const norm = 1 / (255 * f * f)
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      for (let c = 0; c < channels; c++) {
        let s = 0
        for (let dy = 0; dy < f; dy++)
          for (let dx = 0; dx < f; dx++) s += img[((y * f + dy) * size + x * f + dx) * channels + c]
        out[(y * side + x) * channels + c] = s * norm
      }
  return out
}

/**
 * Exact nearest neighbours by Euclidean distance over a fixed set of feature vectors, with the
 * distances computed as |a|^2 + |b|^2 - 2ab on the tfjs backend, a block of references at a time
 * so memory stays bounded whatever the set's size. Distances are root-mean-square per feature,
 * so they read the same at any image size.
 */
export class NearestIndex {
  private readonly blocks: { x: tf.Tensor2D; sq: tf.Tensor1D; offset: number }[] = []
  readonly size: number

  constructor(
    refs: Float32Array[],
    readonly dim: number,
    blockRows = 2048,
  ) {
    this.size = refs.length
    for (let i = 0; i < refs.length; i += blockRows) {
      const part = refs.slice(i, i + blockRows)
      const flat = new Float32Array(part.length * dim)
      part.forEach((r, j) => flat.set(r, j * dim))
      const x = tf.tensor2d(flat, [part.length, dim])
      this.blocks.push({ x, sq: tf.tidy(() => tf.sum(tf.square(x), 1)), offset: i })
    }
  }

  /**
   * For each query, the nearest reference (index, RMS distance); `exclude(q)` names a reference
   * to skip for query q (the query itself when querying a set against itself).
   */
  nearest(
    queries: Float32Array[],
    exclude?: (q: number) => number,
  ): { index: Int32Array; distance: Float32Array } {
    const n = queries.length
    const index = new Int32Array(n).fill(-1)
    const best = new Float32Array(n).fill(Infinity)
    if (!n || !this.size) return { index, distance: best }
    const flat = new Float32Array(n * this.dim)
    queries.forEach((q, j) => flat.set(q, j * this.dim))
    const q = tf.tensor2d(flat, [n, this.dim])
    const qsq = tf.tidy(() => tf.reshape(tf.sum(tf.square(q), 1), [n, 1]))
    for (const b of this.blocks) {
      const d2 = tf.tidy(() =>
        tf.add(tf.sub(qsq, tf.mul(tf.matMul(q, b.x, false, true), 2)), tf.reshape(b.sq, [1, -1])),
      )
      const data = d2.dataSync() as Float32Array
      d2.dispose()
      const cols = b.x.shape[0]
      for (let i = 0; i < n; i++) {
        const skip = exclude ? exclude(i) - b.offset : -1
        for (let j = 0; j < cols; j++) {
          const v = data[i * cols + j]
          if (j !== skip && v < best[i]) {
            best[i] = v
            index[i] = b.offset + j
          }
        }
      }
    }
    q.dispose()
    qsq.dispose()
    for (let i = 0; i < n; i++) best[i] = Math.sqrt(Math.max(0, best[i]) / this.dim)
    return { index, distance: best }
  }

  dispose(): void {
    for (const b of this.blocks) {
      b.x.dispose()
      b.sq.dispose()
    }
  }
}

export function median(values: number[]): number | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (!v.length) return null
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}
