import * as tf from '@tensorflow/tfjs-core'
import { bceWithLogits } from '../../accel/ops'

export interface LossParts {
  total: tf.Scalar
  reconstruction: tf.Scalar
  kl: tf.Scalar
  /** KL per latent dimension, averaged over the batch (before free bits). */
  klPerDim: tf.Tensor1D
}

export type Reconstruction = 'mse' | 'bce' | 'gaussian'

/**
 * Smallest scale of the Gaussian likelihood, in pixel units of [0, 1]: about 2.5 of 255 levels.
 * Without a floor, a channel that is nearly constant (the white background of an icon, an opaque
 * alpha) drives its scale towards zero and its weight, 1 / scale^2, past everything else.
 */
export const GAUSSIAN_MIN_SCALE = 0.01

/**
 * Gaussian negative log-likelihood of targets under means sigmoid(logits), with one scale per
 * channel set to its maximum-likelihood value for the batch (the mean squared error of that
 * channel, floored): the "optimal sigma" calibrated decoder of Rybkin et al. 2021 (sigma-VAE).
 * Summed over pixels and divided by `divisor`. As reconstructions sharpen the scale falls and
 * detail weighs more against the KL term, where BCE's fixed weight keeps colour images at a blur;
 * each channel (alpha too) gets its own scale, so a flat channel cannot drown out a busy one.
 * The decoder's output stays one logit per channel, and sampling uses the mean.
 */
export function gaussianNll(logits: tf.Tensor4D, target: tf.Tensor4D, divisor: number): tf.Scalar {
  const [n, h, w] = logits.shape
  const count = n * h * w
  // The gradient is written out: with the scale at its optimum its own path adds nothing (the
  // envelope theorem), so d/dlogit = (m - x) / s_c * m (1 - m) / divisor. Autodiff of the formula
  // ran three times the kernels and halved training speed on wasm (bench/train).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [l, save] = args as [tf.Tensor4D, tf.GradSaveFunc]
    const mean = tf.sigmoid(l)
    const squared = tf.sum(tf.square(tf.sub(mean, target)), [0, 1, 2])
    const variance = tf.maximum(tf.div(squared, count), GAUSSIAN_MIN_SCALE ** 2)
    // per channel: sum over pixels of (x - m)^2 / (2 s) + log(2 pi s) / 2
    const perChannel = tf.add(
      tf.div(squared, tf.mul(variance, 2)),
      tf.mul(tf.log(tf.mul(variance, 2 * Math.PI)), count / 2),
    )
    save([mean, variance])
    return {
      value: tf.div(tf.sum(perChannel), divisor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [m, v] = saved
        const scale = tf.div(tf.div(dy, divisor), v)
        return tf.mul(tf.mul(tf.sub(m, target), tf.mul(m, tf.sub(1, m))), scale)
      },
    }
  })
  return op(logits) as tf.Scalar
}

/**
 * Reconstruction term of every family, summed over pixels and averaged over the batch: MSE as the
 * design writes it, Bernoulli cross-entropy on logits, or the calibrated Gaussian (gaussianNll).
 * The batch mean of per-image sums is one sum over everything divided by the batch size: its
 * gradient is a scalar broadcast, which the wasm backend runs far faster than a per-image one.
 */
export function reconstructionLoss(
  target: tf.Tensor4D,
  logits: tf.Tensor4D,
  kind: Reconstruction,
): tf.Scalar {
  const batch = target.shape[0]
  return (
    kind === 'bce'
      ? bceWithLogits(logits, target, batch)
      : kind === 'gaussian'
        ? gaussianNll(logits, target, batch)
        : tf.div(tf.sum(tf.square(tf.sub(tf.sigmoid(logits), target))), batch)
  ) as tf.Scalar
}

/**
 * loss = reconstruction + beta * KL (beta-VAE). Reconstruction is summed over pixels and averaged
 * over the batch: MSE as the design writes it, Bernoulli cross-entropy on logits, or a Gaussian
 * with a calibrated scale per channel (gaussianNll, for colour). KL of
 * q(z|x,y) from N(0, I), with "free bits": each dimension's KL counts as at least `freeBits` nats,
 * so the optimiser gains nothing by pushing it to zero (a guard against posterior collapse).
 */
export function cvaeLoss(
  target: tf.Tensor4D,
  logits: tf.Tensor4D,
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  o: { beta: number; freeBits: number; reconstruction: Reconstruction },
): LossParts {
  const reconstruction = reconstructionLoss(target, logits, o.reconstruction)
  const klPerDim = tf.mean(
    tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar))),
    0,
  ) as tf.Tensor1D
  const kl = tf.sum(klPerDim) as tf.Scalar
  const klForLoss = o.freeBits > 0 ? (tf.sum(tf.maximum(klPerDim, o.freeBits)) as tf.Scalar) : kl
  const total = tf.add(reconstruction, tf.mul(o.beta, klForLoss)) as tf.Scalar
  return { total, reconstruction, kl, klPerDim }
}
