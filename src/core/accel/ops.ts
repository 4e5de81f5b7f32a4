import * as tf from '@tensorflow/tfjs-core'
import { BCE_GRAD, BCE_SUM } from './cross-entropy'
import { keepPoolAwake } from './pool-wake'
import { SUM_SQUARES } from './elementwise'

/*
 * The acceleration package's face to the models: ops that run as one of Synthfold's kernels where
 * the backend has them and as plain tfjs elsewhere, so a model or a loss never names a kernel.
 */

/**
 * Bernoulli cross-entropy of logits against targets in [0, 1], summed over every pixel and divided
 * by `divisor`, in the stable form relu(l) - l * x + log(1 + exp(-|l|)). Its gradient is written
 * out, (sigmoid(l) - x) * dy / divisor: three kernels instead of the dozen that differentiating the
 * formula runs.
 */
export function bceWithLogits(logits: tf.Tensor, target: tf.Tensor, divisor = 1): tf.Scalar {
  // On wasm each direction is one pass of Synthfold's kernels (cross-entropy.ts).
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
export function sumOfSquares(g: tf.Tensor): tf.Scalar {
  if (tf.getBackend() === 'wasm' && g.dtype === 'float32' && tf.getKernel(SUM_SQUARES, 'wasm'))
    return tf.engine().runKernel(SUM_SQUARES, { x: g }) as tf.Scalar
  return tf.sum(tf.square(g))
}

/** Adam as one fused kernel per variable on wasm (bit-identical to tfjs's Adam), tfjs's elsewhere. */
export { FusedAdam } from './fused-adam'
