import * as tf from '@tensorflow/tfjs-core'
import { reconstructionLoss, type Reconstruction } from '../cvae/loss'

/**
 * Scales of the inverse multiquadratic kernel, as multiples of the prior's variance: WAE-MMD
 * (Tolstikhin et al. 2018) sums the kernel over several widths because one width suits only one
 * distance between codes; its heavy tails keep a gradient for codes far from the prior's samples,
 * where a Gaussian kernel's vanishes.
 */
export const IMQ_SCALES = [0.1, 0.2, 0.5, 1, 2, 5, 10] as const

/** Squared distances between every row of a (n x d) and every row of b (m x d), as one matMul. */
function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const na = tf.sum(tf.square(a), 1, true)
  const nb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1])
  return tf.relu(tf.sub(tf.add(na, nb), tf.mul(tf.matMul(a, b, false, true), 2))) as tf.Tensor2D
}

/** sum over scales of C / (C + d2), C = 2 * dim * scale (a N(0, I) prior's variance being 1). */
function imq(d2: tf.Tensor2D, dim: number): tf.Tensor2D {
  let k: tf.Tensor2D | null = null
  for (const s of IMQ_SCALES) {
    const c = 2 * dim * s
    const term = tf.div(c, tf.add(d2, c)) as tf.Tensor2D
    k = k === null ? term : (tf.add(k, term) as tf.Tensor2D)
  }
  return k!
}

/**
 * The unbiased estimate of MMD^2 between codes z (n x d) and prior samples p (n x d) with the
 * inverse multiquadratic kernel at IMQ_SCALES:
 * 1/(n(n-1)) sum_{i != j} [k(z_i, z_j) + k(p_i, p_j)] - 2/n^2 sum_{i, j} k(z_i, p_j).
 */
export function imqMmd(z: tf.Tensor2D, p: tf.Tensor2D): tf.Scalar {
  const [n, dim] = z.shape
  if (n < 2) return tf.scalar(0)
  const offDiagonal = (k: tf.Tensor2D): tf.Scalar =>
    // the diagonal of the IMQ sum is one per scale (d2 = 0)
    tf.div(tf.sub(tf.sum(k), n * IMQ_SCALES.length), n * (n - 1)) as tf.Scalar
  const zz = offDiagonal(imq(squaredDistances(z, z), dim))
  const pp = offDiagonal(imq(squaredDistances(p, p), dim))
  const zp = tf.div(tf.sum(imq(squaredDistances(z, p), dim)), (n * n) / 2)
  return tf.sub(tf.add(zz, pp), zp) as tf.Scalar
}

export interface WaeLossParts {
  total: tf.Scalar
  reconstruction: tf.Scalar
  /** The MMD estimate: where the CVAE's parts carry its KL. */
  mmd: tf.Scalar
}

/**
 * loss = reconstruction + lambda * MMD(q(z), p(z)): the WAE objective. The penalty is on the
 * aggregate of the batch's codes, not on each image's posterior, so codes of different images may
 * stay apart (the VAE's KL pulls every one towards the origin, which blurs reconstructions). With
 * class-balanced batches the aggregate spans every class; sampling then uses each class's fitted
 * Gaussian over its codes (latent-prior.ts), as the CVAE does.
 */
export function waeLoss(
  target: tf.Tensor4D,
  logits: tf.Tensor4D,
  z: tf.Tensor2D,
  prior: tf.Tensor2D,
  o: { lambda: number; reconstruction: Reconstruction },
): WaeLossParts {
  const reconstruction = reconstructionLoss(target, logits, o.reconstruction)
  const mmd = imqMmd(z, prior)
  const total = tf.add(reconstruction, tf.mul(o.lambda, mmd)) as tf.Scalar
  return { total, reconstruction, mmd }
}
