import * as tf from '@tensorflow/tfjs-core'
import { bceWithLogits } from '../../accel/ops'

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
