import * as tf from '@tensorflow/tfjs-core'
import { rng } from '../../util/random'

/**
 * The identity whose gradient is zero: sg(x) of the VQ-VAE paper. tfjs has no stop-gradient op;
 * a custom gradient is one kernel forward and none backward.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor
    return { value: tf.clone(t), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }
  })
  return op(x) as T
}

/**
 * The straight-through estimator: the value of `q` (the nearest codes), the gradient of `z` (the
 * encoder's output). The decoder's gradient at the codes reaches the encoder unchanged; nothing
 * reaches the codebook through this path (the codebook loss or the EMA move the codes).
 */
export function straightThrough<T extends tf.Tensor>(z: T, q: tf.Tensor): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    void args
    return { value: tf.reshape(q, z.shape), gradFunc: (dy: tf.Tensor) => dy }
  })
  return op(z) as T
}

/**
 * Index of the nearest code for each row of z [M, D] in the codebook [K, D]. The squared
 * distances come as one matrix product, |z|^2 - 2 z E^T + |E|^2, then one argMin: the fast
 * paths of the wasm backend, where a [M, K, D] difference tensor would be K times the memory.
 */
export function nearestCodes(z: tf.Tensor2D, codebook: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const zz = tf.sum(tf.square(z), 1, true)
    const ee = tf.reshape(tf.sum(tf.square(codebook), 1), [1, -1])
    const d = tf.add(tf.sub(zz, tf.mul(tf.matMul(z, codebook, false, true), 2)), ee)
    return tf.argMin(d, 1) as tf.Tensor1D
  })
}

/** Perplexity (exp of the entropy of code usage) and the number of codes used, from counts. */
export function codeUsage(counts: ArrayLike<number>): { perplexity: number; usedCodes: number } {
  let total = 0
  let used = 0
  for (let k = 0; k < counts.length; k++) {
    total += counts[k]
    if (counts[k] > 0) used++
  }
  let h = 0
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] <= 0) continue
    const p = counts[k] / total
    h -= p * Math.log(p)
  }
  return { perplexity: total > 0 ? Math.exp(h) : 0, usedCodes: used }
}

export interface QuantizerOptions {
  codebookSize: number
  codeDim: number
  /** Move codes by exponential moving averages of their assigned vectors instead of a loss. */
  ema: boolean
  /** Decay of those averages. */
  decay?: number
  /** A code not picked in this many steps is restarted on an encoder output of the batch. */
  restartAfter: number
  /**
   * Restart every code the first step leaves unused: codes start on encoder outputs instead of
   * the small random values the first batch's outputs are far from.
   */
  initFromData?: boolean
  seed: number
}

export interface Quantized {
  /** The codes with the straight-through gradient, shaped as the encoder's output. */
  quantized: tf.Tensor4D
  /** Encoder outputs as rows [M, D] (kept by the caller for update()). */
  flat: tf.Tensor2D
  indices: tf.Tensor1D
  /** sum |sg(z) - q|^2 / divisor: moves the codes (0 with EMA updates). */
  codebookLoss: tf.Scalar
  /** sum |z - sg(q)|^2 / divisor: keeps the encoder near its codes. */
  commitment: tf.Scalar
}

/**
 * A codebook of K vectors of size D, with nearest-code quantisation, the two VQ losses, optional
 * EMA updates, and restarts of dead codes: a code the encoder stops choosing never gets a
 * gradient again, and a codebook where most codes are dead (collapse, the VQ form of posterior
 * collapse) makes a blurry, low-diversity model. Each dead code is moved onto a random encoder
 * output of the current batch, where it is sure to be chosen.
 */
export class Quantizer {
  readonly codebook: tf.Variable<tf.Rank.R2>
  private readonly emaCount: tf.Variable<tf.Rank.R1> | null
  private readonly emaSum: tf.Variable<tf.Rank.R2> | null
  /** The step at which each code was last chosen. */
  lastUsed: Int32Array
  step = 0
  /** Restarts so far (for the tests and the log). */
  restarts = 0
  private readonly decay: number

  constructor(readonly o: QuantizerOptions) {
    const { codebookSize: k, codeDim: d } = o
    this.decay = o.decay ?? 0.99
    this.codebook = tf.variable(
      tf.randomUniform([k, d], -1 / k, 1 / k, 'float32', o.seed),
      !o.ema,
    ) as tf.Variable<tf.Rank.R2>
    this.emaCount = o.ema ? (tf.variable(tf.zeros([k]), false) as tf.Variable<tf.Rank.R1>) : null
    this.emaSum = o.ema
      ? (tf.variable(tf.clone(this.codebook), false) as tf.Variable<tf.Rank.R2>)
      : null
    this.lastUsed = new Int32Array(k)
  }

  /** The variables a gradient step trains: the codebook unless EMA moves it. */
  trainable(): tf.Variable[] {
    return this.o.ema ? [] : [this.codebook]
  }

  /** Quantises z [N, H, W, D]; `divisor` scales the losses (the batch size). */
  quantize(z: tf.Tensor4D, divisor: number): Quantized {
    const flat = tf.reshape(z, [-1, this.o.codeDim]) as tf.Tensor2D
    // The indices come back as a fresh tensor, outside the recorded graph: tfjs asks every op on a
    // path from a variable for its inputs' gradients, and gather's gradient for int32 indices is
    // an error. The read is a few kilobytes a step.
    const picked = tf.tidy(() => nearestCodes(flat, this.codebook).dataSync() as Int32Array)
    const indices = tf.tensor1d(picked, 'int32')
    // the chosen codes as one-hot rows times the codebook: a gather's gradient (for the codebook
    // loss) needs a kernel the wasm backend lacks, and this is one matMul
    const hot = tf.cast(tf.oneHot(indices, this.o.codebookSize), 'float32') as tf.Tensor2D
    const q = tf.matMul(hot, this.codebook)
    const quantized = straightThrough(z, q)
    const commitment = tf.div(
      tf.sum(tf.square(tf.sub(flat, stopGradient(q)))),
      divisor,
    ) as tf.Scalar
    const codebookLoss = this.o.ema
      ? tf.scalar(0)
      : (tf.div(tf.sum(tf.square(tf.sub(stopGradient(flat), q))), divisor) as tf.Scalar)
    return { quantized, flat, indices, codebookLoss, commitment }
  }

  /** Code indices of z [N, H, W, D] (no gradients), as int32 [N * H * W]. */
  codes(z: tf.Tensor4D): Int32Array {
    return tf.tidy(() =>
      nearestCodes(tf.reshape(z, [-1, this.o.codeDim]) as tf.Tensor2D, this.codebook).dataSync(),
    ) as Int32Array
  }

  /**
   * After a training step: the EMA update of the codes (when on), and restarts of codes unused for
   * `restartAfter` steps on encoder outputs of this batch. Returns how many codes were restarted.
   */
  update(flat: tf.Tensor2D, indices: tf.Tensor1D, seed: number): number {
    const k = this.o.codebookSize
    const picked = indices.dataSync() as Int32Array
    this.step++
    for (let i = 0; i < picked.length; i++) this.lastUsed[picked[i]] = this.step
    if (this.emaCount && this.emaSum) {
      const [count, sum] = [this.emaCount, this.emaSum]
      tf.tidy(() => {
        const onehot = tf.cast(tf.oneHot(indices, k), 'float32') as tf.Tensor2D
        const a = this.decay
        count.assign(tf.add(tf.mul(count, a), tf.mul(tf.sum(onehot, 0), 1 - a)) as tf.Tensor1D)
        sum.assign(
          tf.add(
            tf.mul(sum, a),
            tf.mul(tf.matMul(onehot, flat, true, false), 1 - a),
          ) as tf.Tensor2D,
        )
        // Laplace smoothing keeps an empty code's size above zero.
        const n = tf.sum(count)
        const eps = 1e-5
        const size = tf.mul(tf.div(tf.add(count, eps), tf.add(n, k * eps)), n)
        this.codebook.assign(tf.div(sum, tf.reshape(size, [-1, 1])) as tf.Tensor2D)
      })
    }
    const dead: number[] = []
    const limit = this.step === 1 && this.o.initFromData ? 1 : this.o.restartAfter
    for (let c = 0; c < k; c++) if (this.step - this.lastUsed[c] >= limit) dead.push(c)
    if (!dead.length) return 0
    const rows = flat.dataSync() as Float32Array
    const m = rows.length / this.o.codeDim
    const d = this.o.codeDim
    const book = this.codebook.dataSync().slice() as Float32Array
    const sums = this.emaSum ? (this.emaSum.dataSync().slice() as Float32Array) : null
    const counts = this.emaCount ? (this.emaCount.dataSync().slice() as Float32Array) : null
    const rand = rng(seed)
    for (const c of dead) {
      const r = Math.floor(rand() * m)
      for (let j = 0; j < d; j++) {
        // a little noise, so two codes restarted on the same vector part at once
        const v = rows[r * d + j] + (rand() - 0.5) * 1e-3
        book[c * d + j] = v
        if (sums) sums[c * d + j] = v
      }
      if (counts) counts[c] = 1
      this.lastUsed[c] = this.step
    }
    this.codebook.assign(tf.tensor2d(book, [k, d]))
    if (sums) this.emaSum!.assign(tf.tensor2d(sums, [k, d]))
    if (counts) this.emaCount!.assign(tf.tensor1d(counts))
    this.restarts += dead.length
    return dead.length
  }

  /** The state a checkpoint keeps besides the codebook: EMA sums and the usage clock. */
  state(): { name: string; tensor: tf.Tensor }[] {
    const k = this.o.codebookSize
    const clock = new Float32Array(k + 1)
    clock.set(this.lastUsed)
    clock[k] = this.step
    const out: { name: string; tensor: tf.Tensor }[] = [
      { name: 'clock', tensor: tf.tensor1d(clock) },
    ]
    if (this.emaCount && this.emaSum)
      out.push({ name: 'emaCount', tensor: tf.clone(this.emaCount) })
    if (this.emaSum) out.push({ name: 'emaSum', tensor: tf.clone(this.emaSum) })
    return out
  }

  setState(codebook: tf.Tensor, state: tf.Tensor[]): void {
    this.codebook.assign(codebook as tf.Tensor2D)
    const [clock, count, sum] = state
    if (clock) {
      const c = clock.dataSync()
      const k = this.o.codebookSize
      this.lastUsed = Int32Array.from(c.subarray(0, k))
      this.step = c[k]
    }
    if (count && this.emaCount) this.emaCount.assign(count as tf.Tensor1D)
    if (sum && this.emaSum) this.emaSum.assign(sum as tf.Tensor2D)
  }

  dispose(): void {
    this.codebook.dispose()
    this.emaCount?.dispose()
    this.emaSum?.dispose()
  }
}
