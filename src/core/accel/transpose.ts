import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { pointer, replaceWasmKernel, type KernelArgs, type WasmBackendLike } from './heap'
import { simdKernels } from './simd-module'

type Args = KernelArgs

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

/** Routes Transpose on wasm through the SIMD kernels where a plan covers the permutation. */
export function registerTransposeKernel(): void {
  replaceWasmKernel('Transpose', (o) => transpose(o) as KernelFunc)
}
