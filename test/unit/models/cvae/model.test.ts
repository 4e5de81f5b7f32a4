import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { initBackend } from '../../../../src/core/accel/backend'
import { convLayer } from '../../../../src/core/models/cvae/model'

describe('conv layers (convLayer)', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm')
  })

  it('train like tfjs-layers conv2d, without computing the gradient of a data input', async () => {
    const args = {
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same' as const,
      kernelInitializer: tfl.initializers.heNormal({ seed: 3 }),
      biasInitializer: tfl.initializers.randomNormal({ seed: 4 }),
    }
    const x = tf.randomUniform([4, 12, 12, 2], -1, 1, 'float32', 5)
    const weight = tf.randomUniform([4, 6, 6, 8], -1, 1, 'float32', 6)
    const run = async (layer: tfl.layers.Layer) => {
      layer.apply(tfl.input({ shape: [12, 12, 2] }))
      const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val)
      const loss = (): tf.Scalar => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, weight))
      const profile = await tf.profile(() => tf.variableGrads(loss, vars).grads)
      const { grads } = tf.variableGrads(loss, vars)
      const out = {
        forward: Array.from((layer.apply(x) as tf.Tensor).dataSync()),
        grads: vars.map((v) => Array.from(grads[v.name].dataSync())),
        kernels: profile.kernelNames,
      }
      tf.dispose(Object.values(grads))
      return out
    }
    const fused = await run(tfl.layers.conv2d(args))
    const lazy = await run(convLayer(args))
    expect(fused.kernels).toContain('Conv2DBackpropInput') // tfjs-layers: the image's gradient too
    expect(lazy.kernels).not.toContain('Conv2DBackpropInput')
    const close = (a: number[], b: number[]): void =>
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))))
    close(fused.forward, lazy.forward)
    fused.grads.forEach((g, i) => close(g, lazy.grads[i]))
  })
})
