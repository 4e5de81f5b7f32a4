import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, type KernelArgs, type WasmBackendLike } from './heap'
import { simdKernels } from './simd-module'

type Args = KernelArgs

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

/** Registers the cross-entropy and its gradient as kernels of the wasm backend. */
export function registerCrossEntropyKernels(): void {
  for (const [kernelName, kernelFunc] of [
    [BCE_SUM, bceSum],
    [BCE_GRAD, bceGrad],
  ] as const)
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as KernelFunc,
    })
}
