import * as tf from '@tensorflow/tfjs-core'
import { bceWithLogits } from '../../accel/ops'
import { gaussianNll, type Reconstruction } from '../cvae/loss'

/**
 * The CVAE's reconstruction term (cvaeLoss) on its own: summed over pixels, divided by the batch
 * size, so a VQ-VAE's reconstruction reads on the same scale as a CVAE's.
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
