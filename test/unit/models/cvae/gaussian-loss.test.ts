import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { initBackend } from '../../../../src/core/accel/backend'
import { GAUSSIAN_MIN_SCALE, cvaeLoss, gaussianNll } from '../../../../src/core/models/cvae/loss'

const SHAPE: [number, number, number, number] = [3, 5, 5, 4] // RGBA: alpha gets its own scale

/** Logits and targets as plain arrays, the same on every backend. */
function inputs(seed: number, flatAlpha = false): { logits: number[]; target: number[] } {
  let s = seed
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number
  const n = SHAPE.reduce((a, b) => a * b)
  // an opaque alpha reconstructed almost exactly: its error falls under the scale's floor
  const logits = Array.from({ length: n }, (_, i) =>
    flatAlpha && i % 4 === 3 ? 9 + rand() : (rand() - 0.5) * 6,
  )
  const target = Array.from({ length: n }, (_, i) =>
    flatAlpha && i % 4 === 3 ? 1 : Math.round(rand() * 255) / 255,
  )
  return { logits, target }
}

/** Value and gradient with respect to the logits, on the named backend, through a downstream op. */
async function valueAndGrad(
  backend: string,
  d: { logits: number[]; target: number[] },
): Promise<{ value: number; grad: Float32Array }> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const l = tf.tensor4d(d.logits, SHAPE)
    const x = tf.tensor4d(d.target, SHAPE)
    const f = (v: tf.Tensor) => tf.mul(gaussianNll(v as tf.Tensor4D, x, SHAPE[0]), 1.7)
    const { value, grad } = tf.valueAndGrad(f)(l)
    return { value: value.dataSync()[0], grad: grad.dataSync() as Float32Array }
  })
}

/** The same loss written out in float64 from its definition, for finite differences. */
function reference(logits: number[], target: number[]): number {
  const [n, h, w, c] = SHAPE
  const squared = new Array(c).fill(0)
  logits.forEach((l, i) => (squared[i % c] += (1 / (1 + Math.exp(-l)) - target[i]) ** 2))
  let total = 0
  for (let ch = 0; ch < c; ch++) {
    const v = Math.max(squared[ch] / (n * h * w), GAUSSIAN_MIN_SCALE ** 2)
    total += squared[ch] / (2 * v) + ((n * h * w) / 2) * Math.log(2 * Math.PI * v)
  }
  return (total / n) * 1.7
}

describe('the Gaussian likelihood with a calibrated scale per channel', () => {
  beforeAll(async () => {
    const info = await initBackend('wasm')
    expect(info.backend).toBe('wasm')
  })

  for (const flatAlpha of [false, true])
    it(`matches its definition and central differences on cpu (${flatAlpha ? 'an opaque alpha at the scale floor' : 'every channel free'})`, async () => {
      const d = inputs(7, flatAlpha)
      const cpu = await valueAndGrad('cpu', d)
      expect(cpu.value).toBeCloseTo(reference(d.logits, d.target), 2)
      const h = 1e-4
      let worst = 0
      for (let i = 0; i < d.logits.length; i += 7) {
        const up = d.logits.slice()
        const down = d.logits.slice()
        up[i] += h
        down[i] -= h
        const numeric = (reference(up, d.target) - reference(down, d.target)) / (2 * h)
        worst = Math.max(worst, Math.abs(numeric - cpu.grad[i]) / Math.max(1, Math.abs(numeric)))
      }
      expect(worst).toBeLessThan(2e-3)
    })

  it('gives the same value and gradient on the wasm backend as on cpu', async () => {
    for (const flatAlpha of [false, true]) {
      const d = inputs(11, flatAlpha)
      const cpu = await valueAndGrad('cpu', d)
      const wasm = await valueAndGrad('wasm', d)
      expect(wasm.value).toBeCloseTo(cpu.value, 1)
      expect(Math.abs(wasm.value - cpu.value) / Math.abs(cpu.value)).toBeLessThan(1e-5)
      const scale = Math.max(...cpu.grad.map(Math.abs))
      cpu.grad.forEach((g, i) => expect(Math.abs(wasm.grad[i] - g) / scale).toBeLessThan(1e-4))
    }
  })

  it('weighs a channel by how well it is already reconstructed', async () => {
    await tf.setBackend('cpu')
    // two channels with the same error on one pixel; the other pixels of channel 0 are exact, of
    // channel 1 off by 0.2: channel 0's error counts for more, since its scale is smaller
    const target = tf.fill([1, 2, 2, 2], 0.5) as tf.Tensor4D
    const means = [0.6, 0.6, 0.5, 0.7, 0.5, 0.7, 0.5, 0.7]
    const logits = tf.tensor4d(
      means.map((m) => Math.log(m / (1 - m))),
      [1, 2, 2, 2],
    )
    const g = tf.grad((v: tf.Tensor) => gaussianNll(v as tf.Tensor4D, target, 1))(logits)
    const [g0, g1] = Array.from(g.dataSync()).slice(0, 2)
    expect(g0).toBeGreaterThan(2 * g1)
    const parts = cvaeLoss(target, logits, tf.zeros([1, 2]), tf.zeros([1, 2]), {
      beta: 1,
      freeBits: 0,
      reconstruction: 'gaussian',
    })
    expect(parts.reconstruction.dataSync()[0]).toBeCloseTo(
      gaussianNll(logits, target, 1).dataSync()[0],
      5,
    )
  })
})
