import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, type WasmBackendLike } from './heap'
import { envVar } from '../util/runtime'

let poolPing: (() => void) | null = null
/** SYNTHFOLD_POOL_WAKE=0 leaves XNNPACK's threads to sleep (for measurements, bench/HISTORY.md). */
const wake = envVar('SYNTHFOLD_POOL_WAKE') !== '0'

/**
 * Keeps the threads of tfjs's XNNPACK pool from falling asleep: a tiny broadcast product, which
 * XNNPACK splits between them (microseconds while they are awake). Between the decoder's last
 * forward operation and the first backward convolution a training step runs ~1.7 ms of small
 * kernels on one thread; the pool's workers stop spinning before then, and waking them (a futex,
 * on a virtual machine a halted vCPU) cost that convolution 0.3-1.3 ms. The loss calls this in
 * the middle of that stretch.
 */
export function keepPoolAwake(): void {
  if (wake) poolPing?.()
}

function makePoolPing(original: KernelFunc): () => void {
  return () => {
    const backend = tf.backend() as unknown as WasmBackendLike
    const a = backend.makeOutput([1, 4], 'float32')
    const b = backend.makeOutput([2, 4], 'float32')
    try {
      heapF32(backend, a).fill(0)
      heapF32(backend, b).fill(0)
      const out = original({
        inputs: { a, b },
        backend,
        attrs: {},
      } as unknown as Parameters<KernelFunc>[0]) as TensorInfo
      backend.disposeData(out.dataId)
    } finally {
      backend.disposeData(a.dataId)
      backend.disposeData(b.dataId)
    }
  }
}

/** Builds the ping from wasm's own Multiply (a broadcast product XNNPACK splits between threads). */
export function registerPoolWake(): void {
  const multiply = tf.getKernel('Multiply', 'wasm')
  if (multiply) poolPing = makePoolPing(multiply.kernelFunc)
}
