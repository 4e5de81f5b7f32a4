import * as tf from '@tensorflow/tfjs-core'
import { asTensor, heapF32, output, view, type KernelArgs, type WasmBackendLike } from './heap'
import { col2im, COL2IM_MAX_CHANNELS } from './col2im'
import { convolution, filterGradient, pooledConvolution, pooledFilterGradient } from './conv-jobs'
import { phases, subpixel } from './subpixel'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'

/**
 * The convolutions and their gradients on wasm: Conv2DBackpropFilter (which tfjs 4.22's wasm backend
 * lacks), Conv2D and Conv2DBackpropInput (transposed convolutions: thin ones as a product and
 * col2im.ts, wide ones as sub-pixel phases, subpixel.ts), on Synthfold's threads (conv-jobs.ts)
 * where the SIMD module loads. Each is checked against the cpu backend in
 * test/unit/accel/kernels.test.ts.
 */

type Args = KernelArgs
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

/**
 * Conv2DBackpropFilter (missing on wasm):
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pad, ow*s+kw-pad, ci] * dy[b,oh,ow,co]
 * With Synthfold's SIMD kernels, a product of x's patches with dy on every thread (pool.ts).
 * Without them it is a convolution on XNNPACK: with the batch and channel axes of x swapped, dy
 * becomes a filter whose taps are the output pixels, applied with a dilation equal to the stride.
 */
export function conv2dBackpropFilter({ inputs, attrs, backend }: Args): TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number
    pad: Pad
    dataFormat: 'NHWC' | 'NCHW'
    dimRoundingMode?: 'floor' | 'round' | 'ceil'
    filterShape: [number, number, number, number]
  }
  if (dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only')
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
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
  const wasm = backend as WasmBackendLike
  if (x.dtype === 'float32' && dy.dtype === 'float32') {
    // Synthfold's SIMD product on all threads (pool.ts), else for thin layers a plain loop
    if (pooledFilterGradient(wasm, x.shape[0], info)) return filterGradient(wasm, x, dy, info)
    if (info.filterHeight * info.filterWidth * info.inChannels <= IM2COL_MAX_K)
      return output(filterGradIm2col(wasm, x, dy, info))
  }
  return output(
    tf.tidy(() => {
      const { top, bottom, left, right } = info.padInfo
      const xs = tf.transpose(view<tf.Rank.R4>(x), [3, 1, 2, 0]) as tf.Tensor4D
      const filter = tf.transpose(view<tf.Rank.R4>(dy), [1, 2, 0, 3]) as tf.Tensor4D
      // the forward padding as the convolution's own (implicit) padding: no padded copy of xs
      const pads: tf.backend_util.ExplicitPadding = [
        [0, 0],
        [top, Math.max(0, bottom)],
        [left, Math.max(0, right)],
        [0, 0],
      ]
      const full = tf.conv2d(xs, filter, 1, pads, 'NHWC', [info.strideHeight, info.strideWidth])
      const cut = tf.slice(full, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1])
      return tf.transpose(cut, [1, 2, 0, 3])
    }),
  )
}

/**
 * Without the SIMD kernels, up to this many filter taps per output channel (KH * KW * Ci), the
 * filter gradient is a matrix product of the input's patches with dy. The convolution form above
 * then has a tiny output (KH x KW pixels) and a huge reduction, which XNNPACK runs at a few GFLOP/s
 * (the first conv layer of a gray image, the last transposed convolution of the decoder).
 */
const IM2COL_MAX_K = 64

function filterGradIm2col(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor {
  const [B, XH, XW, Ci] = x.shape
  const [, OH, OW, Co] = dy.shape
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info
  const { top, left } = info.padInfo
  const N = B * OH * OW
  return tf.tidy(() => {
    // The patches one row per output pixel, [N, taps]; then dW^T = dy^T [Co, N] x patches: XNNPACK
    // packs the patches (N x taps) instead of dy (N x Co, the larger for these layers).
    const taps = KH * KW * Ci
    const rows = backend.makeOutput([N, taps], 'float32')
    const p = heapF32(backend, rows)
    const xs = heapF32(backend, x)
    let n = 0
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh + kh - top
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw + kw - left
              const inside = ih >= 0 && ih < XH && iw >= 0 && iw < XW
              const src = ((b * XH + ih) * XW + iw) * Ci
              for (let ci = 0; ci < Ci; ci++) p[n++] = inside ? xs[src + ci] : 0
            }
          }
    const patches = asTensor<tf.Rank.R2>(rows)
    const g = tf.transpose(tf.matMul(tf.reshape(view(dy), [N, Co]), patches, true, false))
    return tf.reshape(g, [KH, KW, Ci, Co])
  })
}

/**
 * Conv2DBackpropInput (a transposed convolution; wasm runs it as a scalar loop), in sub-pixel form
 * on XNNPACK (subpixel.ts). Shapes it does not cover (an output size not divisible by the
 * stride) go to the original kernel.
 */
export function makeConv2dBackpropInput(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const { inputs, attrs } = args
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: [number, number] | number
      pad: Pad
      dataFormat: 'NHWC' | 'NCHW'
      dimRoundingMode?: 'floor' | 'round' | 'ceil'
      inputShape: [number, number, number, number]
    }
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo }
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32')
      return original(args as Parameters<KernelFunc>[0])
    const f = filter.shape as [number, number, number, number]
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      f,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    )
    const [sh, sw] = [info.strideHeight, info.strideWidth]
    const [, H, W] = inputShape
    // dy must be exactly the forward output's size (tfjs's own kernel ignores extra rows).
    if (dataFormat !== 'NHWC' || dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth)
      return original(args as Parameters<KernelFunc>[0])
    if (sh * sw * f[2] <= COL2IM_MAX_CHANNELS)
      return col2im(args.backend as WasmBackendLike, dy, filter, info)
    if (H % sh !== 0 || W % sw !== 0) return original(args as Parameters<KernelFunc>[0])
    const dyT = view<tf.Rank.R4>(dy)
    try {
      return subpixel(args.backend as WasmBackendLike, {
        dy: dyT,
        filter,
        H,
        W,
        rows: phases(sh, f[0], info.padInfo.top),
        cols: phases(sw, f[1], info.padInfo.left),
        strides: [sh, sw],
      })
    } finally {
      dyT.dispose()
    }
  }
}

/**
 * Conv2D (NHWC, no dilation) on Synthfold's threads (pool.ts): patches times filter, a band
 * of output rows at a time. XNNPACK packs the filter afresh whenever it is a new tensor, which in
 * training is every call.
 */
export function makeConv2d(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo }
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as {
      strides: [number, number] | number
      pad: Pad
      dataFormat: 'NHWC' | 'NCHW'
      dilations: [number, number] | number
      dimRoundingMode?: 'floor' | 'round' | 'ceil'
    }
    const backend = args.backend as WasmBackendLike
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || dataFormat !== 'NHWC')
      return original(args as Parameters<KernelFunc>[0])
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    )
    if (!pooledConvolution(backend, x.shape[0], info))
      return original(args as Parameters<KernelFunc>[0])
    return convolution(backend, x, filter, info)
  }
}
