import * as tf from '@tensorflow/tfjs-core'
import { sumOfSquares } from '../accel/ops'

/**
 * The factor that brings the gradients' global L2 norm down to `maxNorm`: min(1, maxNorm / norm);
 * null when clipping is off (`maxNorm` 0).
 */
export function globalNormScale(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { norm: tf.Scalar; scale: tf.Scalar | null } {
  const norm = tf.sqrt(tf.addN(Object.values(grads).map(sumOfSquares))) as tf.Scalar
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
