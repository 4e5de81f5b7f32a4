import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { ADAM_STEP, FusedAdam } from '../../../src/core/accel/fused-adam'
import { initBackend } from '../../../src/core/accel/backend'
import { setSimdKernelsEnabled } from '../../../src/core/accel/simd-module'

/** Shapes with whole vectors, a scalar tail, and both. */
const SHAPES = [[64, 33], [7], [3, 3, 4, 8], [1]]

/**
 * Four steps of an optimiser on fresh variables with fixed gradients, the gradients scaled by a
 * clipping factor: the variables, the moments and the moments' names.
 */
function run(
  make: () => tf.AdamOptimizer,
  step: (o: tf.AdamOptimizer, g: Record<string, tf.Tensor>, s: tf.Scalar) => void,
): { values: number[][]; names: string[] } {
  const tag = Math.random().toString(36).slice(2)
  const vars = SHAPES.map((s, i) =>
    tf.variable(tf.randomUniform(s, -1, 1, 'float32', 7 + i), true, `v${i}_${tag}`),
  )
  const opt = make()
  for (let t = 0; t < 4; t++) {
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const grads = Object.fromEntries(
        vars.map((v, i) => [
          v.name,
          tf.randomNormal(v.shape, 0, 1 + t, 'float32', 100 * t + i + 1),
        ]),
      )
      step(opt, grads, tf.scalar(t % 2 ? 1 : 0.37))
    })
    // after the first step (which creates the moments) a step leaves no tensor behind
    if (t > 0) expect(tf.memory().numTensors).toBe(before)
  }
  const state = opt as unknown as {
    accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[]
    accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[]
  }
  const moments = [...state.accumulatedFirstMoment, ...state.accumulatedSecondMoment]
  const values = [...vars, ...moments.map((m) => m.variable)].map((v) => Array.from(v.dataSync()))
  const names = moments.map((m) => m.originalName.replace(`_${tag}`, ''))
  opt.dispose()
  tf.dispose(vars)
  return { values, names }
}

const stock = (): ReturnType<typeof run> =>
  run(
    () => tf.train.adam(0.01),
    (o, g, s) =>
      o.applyGradients(
        tf.tidy(() =>
          Object.fromEntries(Object.entries(g).map(([k, t]) => [k, tf.mul(t, s)])),
        ) as Record<string, tf.Variable>,
      ),
  )
const fused = (): ReturnType<typeof run> =>
  run(
    () => new FusedAdam(0.01),
    (o, g, s) => (o as FusedAdam).applyGradients(g, s),
  )

describe('FusedAdam (clipping scale folded into one Adam kernel)', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm')
  })
  afterAll(() => setSimdKernelsEnabled(true))

  it('matches tfjs Adam on scaled gradients bit for bit, on wasm, in one kernel a variable', async () => {
    await tf.setBackend('wasm')
    const a = stock()
    const b = fused()
    expect(b.names).toEqual(a.names)
    expect(b.values).toEqual(a.values)
    // the fused kernel ran: one call a variable, instead of a dozen elementwise kernels
    const v = tf.variable(tf.ones([5]), true)
    const opt = new FusedAdam(0.1)
    const { kernels } = await tf.profile(() => opt.applyGradients({ [v.name]: tf.ones([5]) }))
    const names = kernels.map((k) => k.name)
    expect(names.filter((n) => n === ADAM_STEP)).toHaveLength(1)
    expect(names).not.toContain('Sqrt')
    opt.dispose()
    v.dispose()
  })

  it('falls back to tfjs Adam where the SIMD kernels are off, and on the cpu backend', async () => {
    await tf.setBackend('wasm')
    const reference = stock()
    setSimdKernelsEnabled(false)
    expect(fused().values).toEqual(reference.values)
    setSimdKernelsEnabled(true)
    await tf.setBackend('cpu')
    const cpu = stock()
    const cpuFused = fused()
    expect(cpuFused.values).toEqual(cpu.values)
    expect(cpuFused.names).toEqual(cpu.names)
    await tf.setBackend('wasm')
  })
})
