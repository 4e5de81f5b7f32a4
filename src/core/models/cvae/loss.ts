import * as tf from '@tensorflow/tfjs-core'
import { BCE_GRAD, BCE_SUM, keepPoolAwake, SUM_SQUARES } from '../../accel/elementwise'

export interface LossParts {
  total: tf.Scalar
  reconstruction: tf.Scalar
  kl: tf.Scalar
  /** KL per latent dimension, averaged over the batch (before free bits). */
  klPerDim: tf.Tensor1D
}

/**
 * loss = reconstruction + beta * KL (beta-VAE). Reconstruction is summed over pixels and averaged
 * over the batch: MSE as the design writes it, or Bernoulli cross-entropy on logits. KL of
 * q(z|x,y) from N(0, I), with "free bits": each dimension's KL counts as at least `freeBits` nats,
 * so the optimiser gains nothing by pushing it to zero (a guard against posterior collapse).
 */
export function cvaeLoss(
  target: tf.Tensor4D,
  logits: tf.Tensor4D,
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  o: { beta: number; freeBits: number; reconstruction: 'mse' | 'bce' },
): LossParts {
  // The batch mean of per-image sums, as one sum over everything divided by the batch size: its
  // gradient is a scalar broadcast, which the wasm backend runs far faster than a per-image one.
  const batch = target.shape[0]
  const reconstruction = (
    o.reconstruction === 'bce'
      ? bceWithLogits(logits, target, batch)
      : tf.div(tf.sum(tf.square(tf.sub(tf.sigmoid(logits), target))), batch)
  ) as tf.Scalar
  const klPerDim = tf.mean(
    tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar))),
    0,
  ) as tf.Tensor1D
  const kl = tf.sum(klPerDim) as tf.Scalar
  const klForLoss = o.freeBits > 0 ? (tf.sum(tf.maximum(klPerDim, o.freeBits)) as tf.Scalar) : kl
  const total = tf.add(reconstruction, tf.mul(o.beta, klForLoss)) as tf.Scalar
  return { total, reconstruction, kl, klPerDim }
}

/**
 * Bernoulli cross-entropy of logits against targets in [0, 1], summed over every pixel and divided
 * by `divisor`, in the stable form relu(l) - l * x + log(1 + exp(-|l|)). Its gradient is written
 * out, (sigmoid(l) - x) * dy / divisor: three kernels instead of the dozen that differentiating the
 * formula runs.
 */
export function bceWithLogits(logits: tf.Tensor, target: tf.Tensor, divisor = 1): tf.Scalar {
  // On wasm each direction is one pass of Synthfold's kernels (wasm-js-kernels.ts).
  const fused =
    tf.getBackend() === 'wasm' &&
    logits.dtype === 'float32' &&
    target.dtype === 'float32' &&
    tf.util.arraysEqual(logits.shape, target.shape) &&
    !!tf.getKernel(BCE_SUM, 'wasm')
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [l, save] = args as [tf.Tensor, tf.GradSaveFunc]
    save([l])
    if (fused) keepPoolAwake() // see there: the next stretch of the step runs on one thread
    const sum = fused
      ? (tf.engine().runKernel(BCE_SUM, { logits: l, target }) as tf.Scalar)
      : tf.sum(tf.sub(tf.add(tf.relu(l), tf.log1p(tf.exp(tf.neg(tf.abs(l))))), tf.mul(l, target)))
    return {
      value: tf.div(sum, divisor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (!fused) return tf.mul(tf.sub(tf.sigmoid(saved[0]), target), tf.div(dy, divisor))
        keepPoolAwake()
        return tf
          .engine()
          .runKernel(BCE_GRAD, { logits: saved[0], target, dy }, { divisor }) as tf.Tensor
      },
    }
  })
  return op(logits) as tf.Scalar
}

/** sum(g^2): one pass on wasm (Synthfold's kernel), square and sum elsewhere. */
function squaredNorm(g: tf.Tensor): tf.Scalar {
  if (tf.getBackend() === 'wasm' && g.dtype === 'float32' && tf.getKernel(SUM_SQUARES, 'wasm'))
    return tf.engine().runKernel(SUM_SQUARES, { x: g }) as tf.Scalar
  return tf.sum(tf.square(g))
}

/**
 * The factor that brings the gradients' global L2 norm down to `maxNorm`: min(1, maxNorm / norm);
 * null when clipping is off (`maxNorm` 0).
 */
export function globalNormScale(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { norm: tf.Scalar; scale: tf.Scalar | null } {
  const norm = tf.sqrt(tf.addN(Object.values(grads).map(squaredNorm))) as tf.Scalar
  if (maxNorm <= 0) return { norm, scale: null }
  return { norm, scale: tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12))) as tf.Scalar }
}

/** Scales gradients so their global L2 norm is at most `maxNorm` (0 turns clipping off). */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const { norm, scale } = globalNormScale(grads, maxNorm)
  if (!scale) return { grads, norm }
  return {
    grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)])),
    norm,
  }
}

/** Learning rate for an epoch: constant, cosine decay to 5%, or halving every third of the run. */
export function learningRateAt(
  schedule: 'constant' | 'cosine' | 'step',
  base: number,
  epoch: number,
  epochs: number,
): number {
  if (schedule === 'constant' || epochs <= 1) return base
  const t = Math.min(1, epoch / (epochs - 1))
  if (schedule === 'cosine') return base * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)))
  return base * 0.5 ** Math.floor(t * 3 - 1e-9)
}

/** KL weight multiplier during warm-up: rises linearly from 0 to 1 over `warmupEpochs`. */
export const klWarmup = (epochProgress: number, warmupEpochs: number): number =>
  warmupEpochs <= 0 ? 1 : Math.min(1, epochProgress / warmupEpochs)
