import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import { batchArrays, epochOrder, type TrainingData } from '../training/data'
import { rng } from '../util/random'
import { classifier, type CvaeShape } from '../models/cvae/model'
import { toUnitFloats } from './generator'

/**
 * A second classifier, trained in the generation process on the real images only. The run's own
 * classifier also shaped the decoder (its verdict was a training loss), so the decoder may have
 * learned to please it with features no other classifier relies on; a fresh one, never seen by
 * the decoder, is an independent second opinion. A sample's class confidence is the lower of the
 * two probabilities.
 */
export class SecondOpinion {
  private constructor(private readonly model: tfl.LayersModel) {}

  /**
   * Trains for up to `epochs` class-balanced epochs or `budgetMs`, whichever ends first; `labels`
   * are the checkpoint's class indices (-1: not a class of the checkpoint).
   */
  static async train(
    data: TrainingData,
    labels: Int32Array,
    shape: CvaeShape,
    o: { epochs: number; budgetMs: number; seed: number; onEpoch?: (e: number) => void },
  ): Promise<SecondOpinion> {
    const model = classifier({ ...shape, seed: o.seed })
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable)
    const opt = tf.train.adam(1e-3)
    const d: TrainingData = { ...data, labels }
    const usable = Array.from(labels.keys()).filter((i) => labels[i] >= 0)
    const rand = rng(o.seed)
    const t0 = Date.now()
    const batch = 64
    outer: for (let e = 0; e < o.epochs; e++) {
      const order = epochOrder(usable, labels, true, rand)
      for (let i = 0; i < order.length; i += batch) {
        const idx = order.slice(i, i + batch)
        const { x, y } = batchArrays(d, idx, shape.classes)
        tf.tidy(() => {
          const xt = tf.tensor4d(x, [idx.length, shape.size, shape.size, shape.channels])
          const yt = tf.tensor2d(y, [idx.length, shape.classes])
          const { grads } = tf.variableGrads(
            () =>
              tf.losses.softmaxCrossEntropy(
                yt,
                model.apply(xt, { training: true }) as tf.Tensor2D,
              ) as tf.Scalar,
            vars,
          )
          opt.applyGradients(grads as Record<string, tf.Variable>)
        })
        if (Date.now() - t0 > o.budgetMs) break outer
        // let cancel and progress messages through
        if (i % (batch * 16) === 0) await new Promise((r) => setImmediate(r))
      }
      o.onEpoch?.(e + 1)
    }
    opt.dispose()
    return new SecondOpinion(model)
  }

  /** Probability of each image's intended class. */
  confidence(images: Uint8Array[], classIndex: number, shape: CvaeShape): number[] {
    const record = shape.size * shape.size * shape.channels
    const flat = toUnitFloats(images, record)
    const probs = tf.tidy(() =>
      tf.softmax(
        this.model.apply(
          tf.tensor4d(flat, [images.length, shape.size, shape.size, shape.channels]),
        ) as tf.Tensor2D,
      ),
    )
    const data = probs.dataSync() as Float32Array
    probs.dispose()
    return images.map((_, j) => data[j * shape.classes + classIndex])
  }

  dispose(): void {
    this.model.dispose()
  }
}
