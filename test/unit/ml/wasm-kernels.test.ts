import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { initBackend } from '../../../src/main/core/ml/backend'

type Case = {
  x: [number, number, number, number]
  f: [number, number, number, number]
  stride: number
  pad: 'same' | 'valid'
}

const CASES: Case[] = [
  { x: [4, 28, 28, 1], f: [3, 3, 1, 8], stride: 2, pad: 'same' },
  { x: [3, 14, 14, 8], f: [3, 3, 8, 16], stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [5, 5, 3, 4], stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 2], f: [4, 4, 2, 3], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 3], f: [4, 4, 3, 2], stride: 2, pad: 'same' },
]

/** Filter gradients of a conv layer, computed on the named backend. */
async function filterGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  return CASES.map((c, i) =>
    tf.tidy(() => {
      const x = tf.randomUniform(c.x, -1, 1, 'float32', 11 + i) as tf.Tensor4D
      const w = tf.randomUniform(c.f, -1, 1, 'float32', 5 + i) as tf.Tensor4D
      const g = tf.grad((f: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad))),
      )(w)
      return g.dataSync() as Float32Array
    }),
  )
}

describe('the wasm Conv2DBackpropFilter kernel', () => {
  beforeAll(async () => {
    const info = await initBackend('wasm')
    expect(info.backend).toBe('wasm')
  })

  it('matches the cpu backend for strides, paddings and kernel sizes', async () => {
    const wasm = await filterGrads('wasm')
    const cpu = await filterGrads('cpu')
    CASES.forEach((c, i) => {
      expect(wasm[i].length).toBe(c.f.reduce((a, b) => a * b))
      let worst = 0
      cpu[i].forEach(
        (v, j) => (worst = Math.max(worst, Math.abs(v - wasm[i][j]) / Math.max(1, Math.abs(v)))),
      )
      expect(worst, `case ${i}`).toBeLessThan(1e-4)
    })
  })

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    await filterGrads('wasm')
    expect(tf.memory().numTensors).toBe(before)
  })
})
