import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../../../src/core/accel/backend'
import { wasmBackend } from '../../../src/core/accel/heap'
import { pool, setPoolSpin, simdWorkerCount } from '../../../src/core/accel/pool'

describe("Synthfold's SIMD workers, spinning before they sleep", () => {
  it('give the same bits whatever the spin count, which each job carries to them', async (ctx) => {
    const info = await initBackend('wasm')
    if (info.threads < 2) {
      console.log('skipped: one wasm thread here, so no workers to spin')
      ctx.skip()
    }
    expect(simdWorkerCount(wasmBackend())).toBeGreaterThan(0)
    const x = tf.randomUniform([16, 14, 14, 32], -1, 1, 'float32', 1) as tf.Tensor4D
    const dy = tf.randomUniform([16, 7, 7, 64], -1, 1, 'float32', 3) as tf.Tensor4D
    const w = tf.randomUniform([3, 3, 32, 64], -1, 1, 'float32', 5) as tf.Tensor4D
    const run = (): Float32Array[] =>
      tf
        .tidy(() => [
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy },
              { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] },
            ) as tf.Tensor,
          tf.conv2d(x, w, 2, 'same'),
        ])
        .map((t) => {
          const data = t.dataSync() as Float32Array
          t.dispose()
          return data
        })
    const p = pool(wasmBackend())!
    const spinWord = (): number => Atomics.load(p.i32, (p.ctl >> 2) + 3)
    try {
      const reference = run()
      expect(spinWord()).toBe(0)
      for (const spin of [1, 20_000, 0]) {
        setPoolSpin(spin)
        for (let i = 0; i < 3; i++) {
          const got = run()
          expect(spinWord()).toBe(spin)
          got.forEach((g, j) => expect(g).toEqual(reference[j]))
        }
      }
    } finally {
      setPoolSpin(0)
      tf.dispose([x, dy, w])
    }
  })
})
