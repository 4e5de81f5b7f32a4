import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { bceWithLogits } from '../../../../src/core/accel/ops'
import { cvaeLoss } from '../../../../src/core/models/cvae/loss'
import { clipByGlobalNorm } from '../../../../src/core/training/clipping'
import { klWarmup, learningRateAt } from '../../../../src/core/training/schedules'
import { downsamplings } from '../../../../src/core/models/cvae/model'
import { resolveSettings } from '../../../../src/shared/train-settings'

describe('the CVAE loss and schedules', () => {
  it('is reconstruction + beta * KL, with free bits as a floor per latent dimension', async () => {
    await tf.setBackend('cpu')
    const x = tf.fill([2, 2, 2, 1], 0.5) as tf.Tensor4D
    const logits = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D
    const mu = tf.tensor2d([
      [1, 0],
      [1, 0],
    ])
    const logvar = tf.zeros([2, 2]) as tf.Tensor2D
    const plain = cvaeLoss(x, logits, mu, logvar, { beta: 2, freeBits: 0, reconstruction: 'mse' })
    expect(plain.reconstruction.dataSync()[0]).toBeCloseTo(0, 6) // sigmoid(0) = 0.5 = target
    expect(plain.kl.dataSync()[0]).toBeCloseTo(0.5, 6) // 0.5 * mu^2 in the first dimension only
    expect(plain.total.dataSync()[0]).toBeCloseTo(1, 6)
    const floored = cvaeLoss(x, logits, mu, logvar, {
      beta: 1,
      freeBits: 0.25,
      reconstruction: 'mse',
    })
    // the idle second dimension counts as 0.25 nats; the reported KL stays the true one
    expect(floored.total.dataSync()[0]).toBeCloseTo(0.75, 6)
    expect(floored.kl.dataSync()[0]).toBeCloseTo(0.5, 6)
    const bce = cvaeLoss(x, logits, mu, logvar, { beta: 0, freeBits: 0, reconstruction: 'bce' })
    expect(bce.reconstruction.dataSync()[0]).toBeCloseTo(4 * Math.log(2), 5)
  })

  it('differentiates the cross-entropy as autodiff of its formula does', async () => {
    await tf.setBackend('cpu')
    const l = tf.randomNormal([3, 4, 4, 2], 0, 3, 'float32', 9) as tf.Tensor4D
    const x = tf.randomUniform([3, 4, 4, 2], 0, 1, 'float32', 10) as tf.Tensor4D
    const w = tf.randomUniform([3, 4, 4, 2], -2, 2, 'float32', 11)
    const formula = (v: tf.Tensor): tf.Tensor =>
      tf.div(
        tf.sum(tf.sub(tf.add(tf.relu(v), tf.log1p(tf.exp(tf.neg(tf.abs(v))))), tf.mul(v, x))),
        3,
      )
    expect(bceWithLogits(l, x, 3).dataSync()[0]).toBeCloseTo(formula(l).dataSync()[0], 4)
    // through a downstream op, so dy is not 1
    const downstream = (f: (v: tf.Tensor) => tf.Tensor) => (v: tf.Tensor) =>
      tf.mul(f(tf.mul(v, w)), 2.5)
    const grad = tf.grad(downstream((v) => bceWithLogits(v, x, 3)))(l)
    const expected = tf.grad(downstream(formula))(l)
    const [g, e] = [grad, expected].map((t) => Array.from(t.dataSync()))
    g.forEach((v, i) => expect(v).toBeCloseTo(e[i], 5))
  })

  it('clips gradients by their global norm', () => {
    const { grads, norm } = clipByGlobalNorm({ a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }, 1)
    expect(norm.dataSync()[0]).toBeCloseTo(5, 6)
    expect(Array.from(grads.a.dataSync())).toEqual([expect.closeTo(0.6, 6), 0])
    const untouched = clipByGlobalNorm({ a: tf.tensor1d([0.1]) }, 1)
    expect(untouched.grads.a.dataSync()[0]).toBeCloseTo(0.1, 6)
  })

  it('warms KL up linearly and decays the learning rate', () => {
    expect(klWarmup(0, 4)).toBe(0)
    expect(klWarmup(2, 4)).toBe(0.5)
    expect(klWarmup(9, 4)).toBe(1)
    expect(klWarmup(0, 0)).toBe(1)
    expect(learningRateAt('constant', 1e-3, 5, 10)).toBe(1e-3)
    expect(learningRateAt('cosine', 1e-3, 0, 10)).toBeCloseTo(1e-3, 9)
    expect(learningRateAt('cosine', 1e-3, 9, 10)).toBeCloseTo(5e-5, 9)
    expect(learningRateAt('step', 1, 9, 10)).toBe(0.25)
  })

  it('fits the architecture to any training size and refuses settings that make no sense', () => {
    expect([28, 32, 64, 128, 30].map(downsamplings)).toEqual([2, 3, 4, 4, 1])
    expect(() =>
      resolveSettings({ latentDim: 1 }, { size: 28, channels: 1, imageCount: 100 }),
    ).toThrow(/Latent size must be at least 2/)
    expect(() =>
      resolveSettings({ learningRate: 0 }, { size: 28, channels: 1, imageCount: 100 }),
    ).toThrow()
    expect(resolveSettings({}, { size: 28, channels: 1, imageCount: 100 }).latentDim).toBe(16)
    expect(
      resolveSettings({ preset: 'quality' }, { size: 64, channels: 3, imageCount: 50_000 }),
    ).toMatchObject({ latentDim: 32, baseFilters: 64, batchNorm: false }) // wider: many colour images
  })

  it("scales the preset's learning rate down for large images, unless one is given", () => {
    const rate = (size: number, input = {}): number =>
      resolveSettings(input, { size, channels: 3, imageCount: 500 }).learningRate
    expect(rate(28)).toBe(5e-3)
    expect(rate(32)).toBe(5e-3)
    expect(rate(64)).toBeCloseTo(2.5e-3, 12)
    expect(rate(128)).toBeCloseTo(1.25e-3, 12)
    expect(rate(128, { learningRate: 4e-3 })).toBe(4e-3)
    expect(rate(128, { preset: 'fast' })).toBeCloseTo(1.25e-3, 12)
  })
})
