import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../../../src/core/accel/backend'
import { wasmBackend } from '../../../src/core/accel/heap'
import { setWorkerTimeout, simdWorkerCount } from '../../../src/core/accel/pool'

// A file of its own: the pool it retires is this process's.
describe("Synthfold's SIMD workers", () => {
  it('a worker that misses the deadline fails that job with a clear message; later work is right, without the pool', async (ctx) => {
    const info = await initBackend('wasm')
    if (info.threads < 2) {
      console.log('skipped: one wasm thread here, so no workers to time out')
      ctx.skip()
    }
    expect(simdWorkerCount(wasmBackend())).toBeGreaterThan(0)
    const x = tf.randomUniform([32, 28, 28, 32], -1, 1, 'float32', 1) as tf.Tensor4D
    const dy = tf.randomUniform([32, 28, 28, 64], -1, 1, 'float32', 3) as tf.Tensor4D
    const grad = (): Float32Array =>
      tf.tidy(
        () =>
          (
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x, dy },
                { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [4, 4, 32, 64] },
              ) as tf.Tensor
          ).dataSync() as Float32Array,
      )
    const reference = grad()
    // no wait at all: the first job in which a worker still holds a slot when the caller is done
    setWorkerTimeout(0)
    let error: Error | null = null
    for (let i = 0; i < 50 && !error; i++)
      try {
        grad()
      } catch (e) {
        error = e as Error
      }
    setWorkerTimeout(30_000)
    expect(error?.message).toMatch(/SIMD worker did not finish its part of a job/)
    // the pool is retired: the fallback kernels run, and the straggler's writes land in buffers
    // that stay allocated, so nothing computed afterwards is touched
    expect(simdWorkerCount(wasmBackend())).toBe(0)
    for (let i = 0; i < 10; i++) {
      const g = grad()
      // another summation order (XNNPACK's): within float rounding of the largest value
      const scale = Math.max(...Array.from(reference, Math.abs))
      const worst = Math.max(...Array.from(g, (v, j) => Math.abs(v - reference[j])))
      expect(worst / scale).toBeLessThan(1e-5)
    }
    tf.dispose([x, dy])
  })
})
