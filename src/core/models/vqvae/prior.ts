import type { CodeRegion } from '../../../shared/studio'
import * as tf from '@tensorflow/tfjs-core'
import { rng } from '../../util/random'
import { oneHot } from '../cvae/model'

export interface PriorShape {
  grid: number
  codebookSize: number
  classes: number
  /** Channels of the hidden layers. */
  filters: number
  /** Residual mask-B layers after the first. */
  layers: number
  seed: number
}

/**
 * Hidden channels. The convolutions are nearly all of the prior's cost, and sampling runs the
 * network once per code: 48 channels sample about twice as fast as 64 (bench: 7x7 grid, wasm).
 */
export const PRIOR_FILTERS = 48
export const PRIOR_LAYERS = 4
/** Size of the learned embedding each code enters as. */
export const PRIOR_EMBEDDING = 16

/**
 * PixelCNN's mask for a k x k kernel [k, k, cin, cout]: every row above the centre, the centre row
 * left of the centre, and (mask B only) the centre itself. Mask A (the first layer) hides a
 * position from itself; mask B (the layers after) lets a position see its own hidden state, which
 * by then depends only on what came before it in raster order.
 */
export function causalMask(k: number, kind: 'A' | 'B', cin: number, cout: number): tf.Tensor4D {
  const m = new Float32Array(k * k * cin * cout)
  const c = Math.floor(k / 2)
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) {
      const open = y < c || (y === c && (x < c || (x === c && kind === 'B')))
      if (!open) continue
      m.fill(1, (y * k + x) * cin * cout, (y * k + x + 1) * cin * cout)
    }
  return tf.tensor4d(m, [k, k, cin, cout])
}

/**
 * The second stage of a VQ-VAE: a class-conditional autoregressive prior over the code grid,
 * p(c_1..c_n | y) = prod_i p(c_i | c_<i, y) in raster order, as a PixelCNN. The codes enter as a
 * learned embedding (a gather: a one-hot input would make the first layer's cost K / 16 times as
 * large); a 7x7 mask-A convolution, then residual 3x3 mask-B convolutions, then two 1x1 convolutions give
 * K logits per position. Every masked convolution is one tf.conv2d of (kernel * constant mask), so
 * the layers stay on the backend's convolution fast path. The class enters as a learned bias per
 * layer (one-hot times a [classes, filters] matrix).
 */
export class PixelCnnPrior {
  /** Trainable variables, in a fixed order (checkpoints and the optimiser rely on it). */
  readonly variables: tf.Variable[]
  private readonly masks: tf.Tensor4D[]
  private readonly embedding: tf.Variable
  private readonly first: { w: tf.Variable; b: tf.Variable; cls: tf.Variable }
  private readonly blocks: { w: tf.Variable; b: tf.Variable; cls: tf.Variable }[]
  private readonly head: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable }

  constructor(readonly shape: PriorShape) {
    const { codebookSize: k, classes, filters: f, grid } = shape
    let seed = shape.seed + 5000
    const he = (s: number[], fanIn: number) =>
      tf.variable(tf.randomNormal(s, 0, Math.sqrt(2 / fanIn), 'float32', seed++))
    const zeros = (s: number[]) => tf.variable(tf.zeros(s))
    // 7x7 covers a 7 x 7 grid's whole past from any position; a smaller grid needs less
    const k1 = Math.min(7, 2 * grid - 1) | 1
    const e = PRIOR_EMBEDDING
    this.embedding = tf.variable(tf.randomNormal([k, e], 0, 1, 'float32', seed++))
    this.first = {
      w: he([k1, k1, e, f], (k1 * k1 * e) / 2),
      b: zeros([f]),
      cls: zeros([classes, f]),
    }
    this.blocks = Array.from({ length: shape.layers }, () => ({
      w: he([3, 3, f, f], (9 * f) / 2),
      b: zeros([f]),
      cls: zeros([classes, f]),
    }))
    this.head = {
      w1: he([1, 1, f, f], f),
      b1: zeros([f]),
      w2: tf.variable(tf.randomNormal([1, 1, f, k], 0, Math.sqrt(1 / f), 'float32', seed++)),
      b2: zeros([k]),
    }
    this.masks = [causalMask(k1, 'A', e, f), causalMask(3, 'B', f, f)]
    this.variables = [
      this.embedding,
      this.first.w,
      this.first.b,
      this.first.cls,
      ...this.blocks.flatMap((b) => [b.w, b.b, b.cls]),
      this.head.w1,
      this.head.b1,
      this.head.w2,
      this.head.b2,
    ]
  }

  /**
   * Logits [N, h, g, K] for code grids [N, h, g] (int32) of classes given one-hot [N, C]. Rows
   * may be the first h < g of a grid: the masks make row r depend on rows up to r only, so its
   * logits are the same as in the whole grid (sampling row r computes only the rows above it).
   */
  logits(codes: tf.Tensor3D, y: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const [n, rows, g] = codes.shape
      // one-hot times the embedding rather than a gather: gather's gradient needs a kernel
      // (UnsortedSegmentSum) the wasm backend lacks, and the product is one small matMul
      const hot = tf.oneHot(tf.reshape(codes, [-1]) as tf.Tensor1D, this.shape.codebookSize)
      const input = tf.reshape(tf.matMul(tf.cast(hot, 'float32'), this.embedding as tf.Tensor2D), [
        n,
        rows,
        g,
        PRIOR_EMBEDDING,
      ]) as tf.Tensor4D
      const f = this.shape.filters
      // the layer's bias and its class's, as one [N, 1, 1, F] term: one broadcast add a layer
      const bias = (b: tf.Variable, cls: tf.Variable) =>
        tf.reshape(tf.add(tf.matMul(y, cls as tf.Tensor2D), b), [n, 1, 1, f])
      const conv = (x: tf.Tensor4D, w: tf.Variable, mask: tf.Tensor4D) =>
        tf.conv2d(x, tf.mul(w, mask) as tf.Tensor4D, 1, 'same')
      let h = tf.add(
        conv(input, this.first.w, this.masks[0]),
        bias(this.first.b, this.first.cls),
      ) as tf.Tensor4D
      for (const block of this.blocks) {
        const r = tf.add(conv(tf.relu(h), block.w, this.masks[1]), bias(block.b, block.cls))
        h = tf.add(h, r) as tf.Tensor4D
      }
      const o = tf.relu(
        tf.add(tf.conv2d(tf.relu(h), this.head.w1 as tf.Tensor4D, 1, 'valid'), this.head.b1),
      ) as tf.Tensor4D
      return tf.add(tf.conv2d(o, this.head.w2 as tf.Tensor4D, 1, 'valid'), this.head.b2)
    }) as tf.Tensor4D
  }

  /** Mean negative log-likelihood per code, in nats, of code grids [N, g, g] given their classes. */
  loss(codes: tf.Tensor3D, y: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const k = this.shape.codebookSize
      const logits = tf.reshape(this.logits(codes, y), [-1, k])
      const target = tf.oneHot(tf.reshape(codes, [-1]) as tf.Tensor1D, k)
      return tf.losses.softmaxCrossEntropy(target, logits) as tf.Scalar
    })
  }

  /**
   * Negative log-likelihood of each code grid [N, g, g] under its class, summed over the grid, in
   * nats: -log p(codes | y). This is the VQ-VAE's rate term, the part of its bound that depends on
   * the label through the prior (the audit reads it as a continuous model reads its KL).
   */
  gridNll(codes: tf.Tensor3D, y: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const [n, g] = codes.shape
      const k = this.shape.codebookSize
      const logits = this.logits(codes, y)
      const logp = tf.logSoftmax(tf.reshape(logits, [-1, k]))
      const hot = tf.oneHot(tf.reshape(codes, [-1]) as tf.Tensor1D, k)
      const picked = tf.sum(tf.mul(logp, hot), 1)
      return tf.neg(tf.sum(tf.reshape(picked, [n, g * g]), 1)) as tf.Tensor1D
    })
  }

  /**
   * One code grid per seed, for class `classIndex`, drawn position by position in raster order
   * from softmax(logits / temperature) (argmax at temperature 0). Each grid's draws come from its
   * own seeded stream and its logits depend on its own codes only, so a seed gives the same grid
   * whatever batch it is drawn in: a sample regenerates from (checkpoint, class, seed, temperature).
   */
  sample(classIndex: number, seeds: number[], temperature: number, batch = 256): Int32Array[] {
    return this.sampleGrids(
      new Array<number>(seeds.length).fill(classIndex),
      seeds,
      temperature,
      batch,
    )
  }

  /** As sample(), with a class per seed (the previews draw every class in one batch). */
  sampleGrids(labels: number[], seeds: number[], temperature: number, batch = 256): Int32Array[] {
    const out: Int32Array[] = []
    for (let i = 0; i < seeds.length; i += batch) {
      out.push(
        ...this.sampleBatch(labels.slice(i, i + batch), seeds.slice(i, i + batch), temperature),
      )
    }
    return out
  }

  /**
   * Resamples the codes of a region of a grid: one variant per seed, each drawn position by
   * position in raster order over the region's cells from softmax(logits / temperature), every
   * other code kept as given. The prior is causal, so a region's code is conditioned on every code
   * before it in raster order (the kept ones above and left, and the region's own earlier draws);
   * the kept codes after the region condition nothing, they stay as they were.
   */
  resampleRegion(
    codes: ArrayLike<number>,
    classIndex: number,
    region: CodeRegion,
    seeds: number[],
    temperature: number,
  ): Int32Array[] {
    const g = this.shape.grid
    if (codes.length !== g * g)
      throw new Error(`A code grid of this prior has ${g * g} codes, not ${codes.length}.`)
    const { row, col, rows, cols } = region
    if (row < 0 || col < 0 || rows < 1 || cols < 1 || row + rows > g || col + cols > g)
      throw new Error(`The region must lie inside the ${g} x ${g} code grid.`)
    const positions: number[] = []
    for (let r = row; r < row + rows; r++)
      for (let c = col; c < col + cols; c++) positions.push(r * g + c)
    return this.sampleBatch(
      new Array<number>(seeds.length).fill(classIndex),
      seeds,
      temperature,
      Int32Array.from(codes),
      positions,
    )
  }

  /**
   * Draws the codes at `positions` (raster order; every position when none are given) for each
   * seed, starting from `start` (a grid every variant begins as; zeros when none is given).
   */
  private sampleBatch(
    labels: number[],
    seeds: number[],
    temperature: number,
    start?: Int32Array,
    positions?: number[],
  ): Int32Array[] {
    const { grid: g, codebookSize: k, classes } = this.shape
    const n = seeds.length
    const cells = g * g
    const codes = new Int32Array(n * cells)
    if (start) for (let j = 0; j < n; j++) codes.set(start, j * cells)
    const streams = seeds.map((s) => rng(s))
    const y = oneHot(labels, classes)
    const p = new Float64Array(k)
    for (const pos of positions ?? Array.from({ length: cells }, (_, i) => i)) {
      const row = Math.floor(pos / g)
      const col = pos % g
      const l = tf.tidy(() => {
        const rows = new Int32Array(n * (row + 1) * g)
        for (let j = 0; j < n; j++)
          rows.set(codes.subarray(j * cells, j * cells + (row + 1) * g), j * (row + 1) * g)
        const all = this.logits(tf.tensor3d(rows, [n, row + 1, g], 'int32'), y)
        return tf.slice(all, [0, row, col, 0], [n, 1, 1, k]).dataSync() as Float32Array
      })
      for (let j = 0; j < n; j++) {
        const logits = l.subarray(j * k, (j + 1) * k)
        let pick = 0
        if (temperature <= 0) {
          for (let c = 1; c < k; c++) if (logits[c] > logits[pick]) pick = c
        } else {
          let max = -Infinity
          for (let c = 0; c < k; c++) max = Math.max(max, logits[c] / temperature)
          let sum = 0
          for (let c = 0; c < k; c++) sum += p[c] = Math.exp(logits[c] / temperature - max)
          let u = streams[j]() * sum
          pick = k - 1
          for (let c = 0; c < k; c++) {
            u -= p[c]
            if (u < 0) {
              pick = c
              break
            }
          }
        }
        codes[j * cells + pos] = pick
      }
    }
    y.dispose()
    return seeds.map((_, j) => codes.slice(j * cells, (j + 1) * cells))
  }

  dispose(): void {
    for (const v of this.variables) v.dispose()
    for (const m of this.masks) m.dispose()
  }
}
