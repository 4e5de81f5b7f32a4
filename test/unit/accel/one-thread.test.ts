import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { initBackend } from '../../../src/core/accel/backend'
import { wasmBackend } from '../../../src/core/accel/heap'
import { simdWorkerCount } from '../../../src/core/accel/pool'

// The single-threaded wasm build (SYNTHFOLD_WASM_THREADS=1, or a one-core machine): its memory is
// not shared, so Synthfold's SIMD jobs run on the calling thread alone, and a growing memory
// replaces its buffer (views of the old one detach).
describe('the wasm backend on one thread', () => {
  it('runs convolutions, their gradients and transposed convolutions as the cpu backend does, also after the memory grows', async () => {
    process.env.SYNTHFOLD_WASM_THREADS = '1'
    const info = await initBackend('wasm')
    expect(info.threads).toBe(1)
    const run = async (backend: string): Promise<number[][]> => {
      await tf.setBackend(backend)
      return tf.tidy(() => {
        const x = tf.randomUniform([4, 14, 14, 8], -1, 1, 'float32', 1) as tf.Tensor4D
        const w = tf.randomUniform([3, 3, 8, 16], -1, 1, 'float32', 2) as tf.Tensor4D
        const t = tf.randomUniform([4, 4, 12, 16], -1, 1, 'float32', 3) as tf.Tensor4D
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
        )([x, w])
        const y = tf.conv2dTranspose(tf.conv2d(x, w, 2, 'same'), t, [4, 14, 14, 12], 2, 'same')
        return [gx, gw, y].map((r) => Array.from(r.dataSync()))
      })
    }
    const first = await run('wasm')
    await tf.setBackend('wasm')
    expect(simdWorkerCount(wasmBackend())).toBe(0)
    // grow the memory (a buffer far larger than what the backend holds), then the same again
    const big = tf.zeros([64 * 1024 * 1024])
    const again = await run('wasm')
    big.dispose()
    const cpu = await run('cpu')
    expect(again).toEqual(first)
    first.forEach((values, i) =>
      values.forEach((v, j) => expect(v, `output ${i}, element ${j}`).toBeCloseTo(cpu[i][j], 3)),
    )
  })
})
