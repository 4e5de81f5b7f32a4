import * as tf from '@tensorflow/tfjs-core'
import type {
  KernelConfig,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core'

/**
 * Kernels the tfjs 4.22 wasm backend lacks, built from kernels it has (all of which run in
 * XNNPACK), so conv training never falls back to the slow cpu backend.
 *
 * Conv2DBackpropFilter: the filter gradient is itself a convolution. With the batch and channel
 * axes of x swapped, dy becomes a filter whose taps are the output pixels, applied with a dilation
 * equal to the forward stride:  dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pad, ow*s+kw-pad, ci] dy[b,oh,ow,co].
 */
function conv2dBackpropFilter({
  inputs,
  attrs,
}: {
  inputs: NamedTensorInfoMap
  attrs?: NamedAttrMap
}): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
    dataFormat: 'NHWC' | 'NCHW'
    dimRoundingMode?: 'floor' | 'round' | 'ceil'
    filterShape: [number, number, number, number]
  }
  if (dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only')
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  )
  const engine = tf.engine()
  const result = tf.tidy(() => {
    // Views on the inputs: each holds a reference of its own, released when tidy disposes it.
    engine.backend.incRef(x.dataId)
    engine.backend.incRef(dy.dataId)
    const xt = engine.makeTensorFromTensorInfo(x) as tf.Tensor4D
    const dyt = engine.makeTensorFromTensorInfo(dy) as tf.Tensor4D
    const { top, bottom, left, right } = info.padInfo
    const xs = tf.pad(tf.transpose(xt, [3, 1, 2, 0]), [
      [0, 0],
      [top, Math.max(0, bottom)],
      [left, Math.max(0, right)],
      [0, 0],
    ]) as tf.Tensor4D
    const filter = tf.transpose(dyt, [1, 2, 0, 3]) as tf.Tensor4D
    const full = tf.conv2d(xs, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth])
    const cut = tf.slice(full, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1])
    return tf.transpose(cut, [1, 2, 0, 3])
  })
  // Hand the result's data to the engine as this kernel's output without copying it.
  const out: TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype }
  engine.backend.incRef(result.dataId)
  result.dispose()
  return out
}

export const wasmKernels: KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilter as KernelConfig['kernelFunc'],
  },
]

let registered = false
/** Registers the missing kernels once; the wasm backend must be loaded first. */
export function registerWasmKernels(): void {
  if (registered) return
  for (const k of wasmKernels) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k)
  registered = true
}
