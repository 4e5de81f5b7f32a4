import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import {
  heapF32,
  pointer,
  replaceWasmKernel,
  type KernelArgs,
  type WasmBackendLike,
} from './heap'
import { simdKernels } from './simd-module'

/**
 * Elementwise kernels as single passes over wasm memory. tfjs 4.22's wasm LeakyRelu is a slow scalar
 * loop and its gradient takes three kernels (Greater, Multiply, Select); a Sum over leading axes
 * (every bias gradient) transposes the whole tensor first. Measured on the CVAE's training step
 * (bench/train), these were about a fifth of the step. Each runs in Synthfold's SIMD module
 * (wasm-simd.ts) where it loads, else as a JavaScript loop. Both are checked against the cpu
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
 * The strided matrix transposes a permutation comes down to (count of them, each rows x cols, the
 * i-th at i * srcStep in the input and i * dstStep in the output), or null for permutations the SIMD
 * kernel does not cover: swapping the last two axes (matrices, batched), and swapping the first
 * and last (NHWC to CHWN, as the filter gradients use). Offsets and strides in elements.
 */
export function transposePlan(
  shape: number[],
  perm: number[],
): {
  count: number
  rows: number
  cols: number
  srcStride: number
  dstStride: number
  srcStep: number
  dstStep: number
} | null {
  const r = shape.length
  if (r < 2) return null
  const last = r - 1
  const keepsMiddle = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) if (perm[i] !== i) return false
    return true
  }
  if (perm[last] === last - 1 && perm[last - 1] === last && keepsMiddle(0, last - 1)) {
    const [rows, cols] = [shape[last - 1], shape[last]]
    const count = tf.util.sizeFromShape(shape.slice(0, last - 1))
    const step = rows * cols
    return { count, rows, cols, srcStride: cols, dstStride: rows, srcStep: step, dstStep: step }
  }
  if (r >= 3 && perm[0] === last && perm[last] === 0 && keepsMiddle(1, last)) {
    const [a, z] = [shape[0], shape[last]]
    const m = tf.util.sizeFromShape(shape.slice(1, last))
    return {
      count: m,
      rows: a,
      cols: z,
      srcStride: m * z,
      dstStride: m * a,
      srcStep: z,
      dstStep: a,
    }
  }
  return null
}

/**
 * A permutation that swaps two leading groups of axes and keeps the rest, [A, B, T] to [B, A, T]
 * (sizes of the groups), as a transpose of an A x B matrix whose elements are blocks of T floats;
 * null for any other (or T < 4, where a block copy is too small to pay). The filter gradients use
 * [1, 2, 0, 3] (NHWC to HWNC).
 */
export function blockTransposePlan(
  shape: number[],
  perm: number[],
): { rows: number; cols: number; block: number } | null {
  const s = perm[0] // the first group: axes 0 .. s - 1
  const k = perm.indexOf(0) // the second group: axes s .. s + k - 1
  if (!(s >= 1 && k >= 1 && s + k <= perm.length)) return null
  for (let i = 0; i < perm.length; i++) {
    const want = i < k ? s + i : i < k + s ? i - k : i
    if (perm[i] !== want) return null
  }
  const size = (from: number, to: number): number => tf.util.sizeFromShape(shape.slice(from, to))
  const block = size(s + k, shape.length)
  return block >= 4 ? { rows: size(0, s), cols: size(s, s + k), block } : null
}

/** Transpose: the permutations transposePlan and blockTransposePlan cover, in the SIMD kernels. */
function transpose(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x as TensorInfo
    const perm = (args.attrs as { perm: number[] }).perm
    const backend = args.backend as WasmBackendLike
    const simd = simdKernels(backend)
    const fits = simd && (x.dtype === 'float32' || x.dtype === 'int32')
    const plan = fits ? transposePlan(x.shape, perm) : null
    const blocks = fits && !plan ? blockTransposePlan(x.shape, perm) : null
    if (!simd || !(plan || blocks)) return original(args as Parameters<KernelFunc>[0])
    const out = backend.makeOutput(
      perm.map((p) => x.shape[p]),
      x.dtype,
    )
    const src = pointer(backend, x.dataId)
    const dst = pointer(backend, out.dataId)
    if (blocks) {
      const { rows, cols, block } = blocks
      simd.copy_blocks(src, dst, rows, cols, block, cols * block, block, block, rows * block)
    } else if (plan) {
      const { count, rows, cols, srcStride, dstStride, srcStep, dstStep } = plan
      simd.transpose(src, dst, rows, cols, srcStride, dstStride, count, srcStep, dstStep)
    }
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

let poolPing: (() => void) | null = null

/**
 * Keeps the threads of tfjs's XNNPACK pool from falling asleep: a tiny broadcast product, which
 * XNNPACK splits between them (microseconds while they are awake). Between the decoder's last
 * forward operation and the first backward convolution a training step runs ~1.7 ms of small
 * kernels on one thread; the pool's workers stop spinning before then, and waking them (a futex,
 * on a virtual machine a halted vCPU) cost that convolution 0.3-1.3 ms. The loss calls this in
 * the middle of that stretch.
 */
export function keepPoolAwake(): void {
  poolPing?.()
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

export const BCE_SUM = 'SynthfoldBceSum'
export const BCE_GRAD = 'SynthfoldBceGrad'

/**
 * Bernoulli cross-entropy of logits against targets, summed: one pass instead of the nine kernels
 * (Relu, Abs, Neg, Exp, Log1p, ...) of the formula, tfjs's wasm Exp alone being a slow scalar loop.
 */
function bceSum(args: Args): TensorInfo {
  const { logits, target } = args.inputs as { logits: TensorInfo; target: TensorInfo }
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput([], 'float32')
  const n = tf.util.sizeFromShape(logits.shape)
  const simd = simdKernels(backend)
  let total = 0
  if (simd)
    total = simd.bce_logits_sum(pointer(backend, logits.dataId), pointer(backend, target.dataId), n)
  else {
    const [l, t] = [heapF32(backend, logits), heapF32(backend, target)]
    for (let i = 0; i < n; i++)
      total += Math.max(l[i], 0) - l[i] * t[i] + Math.log1p(Math.exp(-Math.abs(l[i])))
  }
  heapF32(backend, out)[0] = total
  return out
}

/** Its gradient: (sigmoid(logits) - target) * dy / divisor, in one pass. */
function bceGrad(args: Args): TensorInfo {
  const { logits, target, dy } = args.inputs as Record<'logits' | 'target' | 'dy', TensorInfo>
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput(logits.shape, 'float32')
  const n = tf.util.sizeFromShape(logits.shape)
  const scale = heapF32(backend, dy)[0] / (args.attrs as { divisor: number }).divisor
  const simd = simdKernels(backend)
  if (simd) {
    const [l, t, o] = [logits, target, out].map((x) => pointer(backend, x.dataId))
    simd.bce_logits_grad(l, t, o, n, scale)
    return out
  }
  const [l, t, g] = [heapF32(backend, logits), heapF32(backend, target), heapF32(backend, out)]
  for (let i = 0; i < n; i++) g[i] = (1 / (1 + Math.exp(-l[i])) - t[i]) * scale
  return out
}

let registered = false

/** Registers the loop kernels on wasm and routes LeakyRelu's gradient to one of them. */
export function registerWasmJsKernels(): void {
  if (registered) return
  replaceWasmKernel('LeakyRelu', (o) => leakyRelu(o) as KernelFunc)
  replaceWasmKernel('Sum', (o) => sum(o) as KernelFunc)
  replaceWasmKernel('Identity', (o) => identity(o) as KernelFunc)
  replaceWasmKernel('Transpose', (o) => transpose(o) as KernelFunc)
  const multiply = tf.getKernel('Multiply', 'wasm')
  if (multiply) poolPing = makePoolPing(multiply.kernelFunc)
  replaceWasmKernel('SplitV', (o) => splitV(o) as KernelFunc)
  tf.registerKernel({
    kernelName: SUM_SQUARES,
    backendName: 'wasm',
    kernelFunc: sumSquares as unknown as KernelFunc,
  })
  for (const [kernelName, kernelFunc] of [
    [BCE_SUM, bceSum],
    [BCE_GRAD, bceGrad],
  ] as const)
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as KernelFunc,
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
