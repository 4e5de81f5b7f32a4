import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, replaceWasmKernel, type KernelArgs, type WasmBackendLike } from './heap'
import { simdKernels } from './simd-module'

/**
 * Elementwise kernels as single passes over wasm memory. tfjs 4.22's wasm LeakyRelu is a slow scalar
 * loop and its gradient takes three kernels (Greater, Multiply, Select); a Sum over leading axes
 * (every bias gradient) transposes the whole tensor first. Measured on the CVAE's training step
 * (bench/train), these were about a fifth of the step. Each runs in Synthfold's SIMD module
 * (simd-module.ts) where it loads, else as a JavaScript loop. Both are checked against the cpu
 * backend in test/unit/accel/kernels.test.ts.
 */

type Args = KernelArgs

export const LEAKY_RELU_GRAD = 'SynthfoldLeakyReluGrad'

function leakyRelu(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x as TensorInfo
    if (x.dtype !== 'float32') return original(args as Parameters<KernelFunc>[0])
    const backend = args.backend as WasmBackendLike
    const alpha = (args.attrs as { alpha: number }).alpha
    const out = backend.makeOutput(x.shape, 'float32')
    const simd = simdKernels(backend)
    if (simd) {
      const n = tf.util.sizeFromShape(x.shape)
      simd.leaky_relu(pointer(backend, x.dataId), pointer(backend, out.dataId), n, alpha)
      return out
    }
    const xs = heapF32(backend, x)
    const ys = heapF32(backend, out)
    // Branch-free (the sign of activations is random; mispredicted branches cost 5x): s is 0 or 1,
    // and s + alpha * (1 - s) is exactly 1 or alpha.
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]
      const s = +(v > 0)
      ys[i] = v * (s + alpha * (1 - s))
    }
    return out
  }
}

function leakyReluGrad(args: Args): TensorInfo {
  const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo }
  const backend = args.backend as WasmBackendLike
  const alpha = (args.attrs as { alpha: number }).alpha
  const out = backend.makeOutput(x.shape, 'float32')
  const simd = simdKernels(backend)
  if (simd) {
    const [d, p, o] = [dy, x, out].map((t) => pointer(backend, t.dataId))
    simd.leaky_relu_grad(d, p, o, tf.util.sizeFromShape(x.shape), alpha)
    return out
  }
  const xs = heapF32(backend, x)
  const gs = heapF32(backend, dy)
  const ds = heapF32(backend, out)
  for (let i = 0; i < xs.length; i++) {
    const s = +(xs[i] > 0)
    ds[i] = gs[i] * (s + alpha * (1 - s))
  }
  return out
}

/** Sum over leading axes (for example [0, 1, 2] of NHWC: a bias gradient) in one pass. */
function sum(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x as TensorInfo
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean }
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b)
    const leading = axes.length > 0 && axes.every((a, i) => a === i)
    const inner = tf.util.sizeFromShape(x.shape.slice(axes.length))
    // A full reduction (inner 1) stays on the original kernel, which is fast at it.
    if (x.dtype !== 'float32' || !leading || inner < 8)
      return original(args as Parameters<KernelFunc>[0])
    const backend = args.backend as WasmBackendLike
    const kept = x.shape.slice(axes.length)
    const shape = keepDims ? [...axes.map(() => 1), ...kept] : kept
    const out = backend.makeOutput(shape, 'float32')
    const simd = simdKernels(backend)
    if (simd) {
      const rows = tf.util.sizeFromShape(x.shape) / inner
      simd.sum_rows(pointer(backend, x.dataId), pointer(backend, out.dataId), rows, inner)
      return out
    }
    const xs = heapF32(backend, x)
    const acc = new Float64Array(inner)
    for (let base = 0; base < xs.length; base += inner)
      for (let j = 0; j < inner; j++) acc[j] += xs[base + j]
    heapF32(backend, out).set(acc)
    return out
  }
}

/**
 * SplitV as one block copy per part (rows of the split axis and everything after it). tfjs's wasm
 * build slices each part element by element: the gradient of the encoder's join of features and
 * label ([64, 3146] into 3136 + 10) took 0.2-0.6 ms a step.
 */
function splitV(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x as TensorInfo
    const backend = args.backend as WasmBackendLike
    const simd = simdKernels(backend)
    if (!simd || (x.dtype !== 'float32' && x.dtype !== 'int32'))
      return original(args as Parameters<KernelFunc>[0])
    const { numOrSizeSplits, axis } = args.attrs as {
      numOrSizeSplits: number | number[]
      axis: number
    }
    const a = tf.util.parseAxisParam(axis, x.shape)[0]
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a)
    const outer = tf.util.sizeFromShape(x.shape.slice(0, a))
    const inner = tf.util.sizeFromShape(x.shape.slice(a + 1))
    let start = 0
    return sizes.map((size) => {
      const out = backend.makeOutput(
        x.shape.map((d, i) => (i === a ? size : d)),
        x.dtype,
      )
      const n = size * inner
      if (n > 0 && outer > 0)
        simd.copy_blocks(
          pointer(backend, x.dataId) + 4 * start * inner,
          pointer(backend, out.dataId),
          outer,
          1,
          n,
          x.shape[a] * inner,
          0,
          n,
          0,
        )
      start += size
      return out
    })
  }
}

/**
 * Identity shares the input's data, as the cpu backend's does (and as wasm's own Reshape does);
 * tfjs's wasm Identity copies the whole tensor, and gradients pass through it many times a step.
 * Safe because no kernel writes into its inputs.
 */
function identity(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x as TensorInfo
    if (x.dtype === 'string') return original(args as Parameters<KernelFunc>[0])
    tf.engine().backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  }
}

export const SUM_SQUARES = 'SynthfoldSumSquares'

/** Sum of squares of a float tensor, a scalar (accumulated in double precision). */
function sumSquares(args: Args): TensorInfo {
  const x = args.inputs.x as TensorInfo
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput([], 'float32')
  const n = tf.util.sizeFromShape(x.shape)
  const simd = simdKernels(backend)
  let total = 0
  if (simd) total = simd.sum_squares(pointer(backend, x.dataId), n)
  else for (const v of heapF32(backend, x)) total += v * v
  heapF32(backend, out)[0] = total
  return out
}

let registered = false

/** Registers the elementwise kernels on wasm and routes LeakyRelu's gradient to one of them. */
export function registerElementwiseKernels(): void {
  if (registered) return
  replaceWasmKernel('LeakyRelu', (o) => leakyRelu(o) as KernelFunc)
  replaceWasmKernel('Sum', (o) => sum(o) as KernelFunc)
  replaceWasmKernel('Identity', (o) => identity(o) as KernelFunc)
  replaceWasmKernel('SplitV', (o) => splitV(o) as KernelFunc)
  tf.registerKernel({
    kernelName: SUM_SQUARES,
    backendName: 'wasm',
    kernelFunc: sumSquares as unknown as KernelFunc,
  })
  tf.registerKernel({
    kernelName: LEAKY_RELU_GRAD,
    backendName: 'wasm',
    kernelFunc: leakyReluGrad as unknown as KernelFunc,
  })
  const previous = tf.getGradient('LeakyRelu')
  if (previous) {
    tf.unregisterGradient('LeakyRelu')
    tf.registerGradient({
      kernelName: 'LeakyRelu',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved
        const alpha = (attrs as { alpha: number }).alpha
        if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || Array.isArray(dy))
          return previous.gradFunc(dy, saved, attrs)
        return {
          x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x }, { alpha }) as tf.Tensor,
        }
      },
    })
  }
  registered = true
}
