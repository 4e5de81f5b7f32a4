import * as tf from '@tensorflow/tfjs-core'
import {
  asTensor,
  heapF32,
  replaceWasmKernel,
  type KernelArgs,
  type WasmBackendLike,
} from './wasm-heap'
import { registerWasmJsKernels } from './wasm-js-kernels'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'

/**
 * Kernels that the tfjs 4.22 wasm backend lacks or runs on a slow path, rebuilt from kernels it
 * runs in XNNPACK. Each is checked against the cpu backend in test/unit/ml/wasm-kernels.test.ts.
 */

type Args = KernelArgs
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

const engine = (): ReturnType<typeof tf.engine> => tf.engine()

/** A tensor on an input's data; it holds its own reference, released when disposed. */
function view<R extends tf.Rank>(info: TensorInfo): tf.Tensor<R> {
  engine().backend.incRef(info.dataId)
  return engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>
}

/** Hands a computed tensor's data to the engine as a kernel output, without a copy. */
function output(t: tf.Tensor): TensorInfo {
  const info: TensorInfo = { dataId: t.dataId, shape: t.shape, dtype: t.dtype }
  engine().backend.incRef(t.dataId)
  t.dispose()
  return info
}

/**
 * Conv2DBackpropFilter (missing on wasm). The filter gradient is itself a convolution: with the
 * batch and channel axes of x swapped, dy becomes a filter whose taps are the output pixels,
 * applied with a dilation equal to the forward stride:
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pad, ow*s+kw-pad, ci] * dy[b,oh,ow,co]
 */
function conv2dBackpropFilter({ inputs, attrs, backend }: Args): TensorInfo {
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
  if (
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    info.filterHeight * info.filterWidth * info.inChannels <= IM2COL_MAX_K
  )
    return output(filterGradIm2col(backend as WasmBackendLike, x, dy, info))
  return output(
    tf.tidy(() => {
      const { top, bottom, left, right } = info.padInfo
      const xs = tf.pad(tf.transpose(view<tf.Rank.R4>(x), [3, 1, 2, 0]), [
        [0, 0],
        [top, Math.max(0, bottom)],
        [left, Math.max(0, right)],
        [0, 0],
      ]) as tf.Tensor4D
      const filter = tf.transpose(view<tf.Rank.R4>(dy), [1, 2, 0, 3]) as tf.Tensor4D
      const full = tf.conv2d(xs, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth])
      const cut = tf.slice(full, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1])
      return tf.transpose(cut, [1, 2, 0, 3])
    }),
  )
}

/**
 * Up to this many filter taps per output channel (KH * KW * Ci), the filter gradient is a matrix
 * product of the input's patches with dy. The convolution form above then has a tiny output
 * (KH x KW pixels) and a huge reduction, which XNNPACK runs at a few GFLOP/s (the first conv layer
 * of a gray image, the last transposed convolution of the decoder).
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
    const cols = backend.makeOutput([KH * KW * Ci, N], 'float32')
    const p = heapF32(backend, cols)
    const xs = heapF32(backend, x)
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++)
        for (let ci = 0; ci < Ci; ci++) {
          let n = ((kh * KW + kw) * Ci + ci) * N
          for (let b = 0; b < B; b++)
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh + kh - top
              if (ih < 0 || ih >= XH) {
                p.fill(0, n, n + OW)
                n += OW
                continue
              }
              const row = (b * XH + ih) * XW
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * sw + kw - left
                p[n++] = iw >= 0 && iw < XW ? xs[(row + iw) * Ci + ci] : 0
              }
            }
        }
    const patches = asTensor<tf.Rank.R2>(cols)
    const g = tf.matMul(patches, tf.reshape(view(dy), [N, Co]))
    return tf.reshape(g, [KH, KW, Ci, Co])
  })
}

/**
 * Conv2DBackpropInput (a transposed convolution; wasm runs it as a scalar loop). Split by output
 * phase ("sub-pixel" form): output rows y with the same (y + pad) mod stride use the same subset of
 * kernel taps, so each of the stride^2 phases is an ordinary stride-1 convolution of dy with a
 * small flipped kernel, and the phases interleave back into dx. Same work as the direct form, all
 * in XNNPACK. Shapes it does not cover (an output size not divisible by the stride) go to the
 * original kernel.
 */
function makeConv2dBackpropInput(original: KernelFunc) {
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
    if (dataFormat !== 'NHWC' || H % sh !== 0 || W % sw !== 0)
      return original(args as Parameters<KernelFunc>[0])
    const backend = args.backend as WasmBackendLike
    const rows = phases(sh, f[0], info.padInfo.top, H)
    const cols = phases(sw, f[1], info.padInfo.left, W)
    const [B, OH, OW] = dy.shape
    const Ci = f[2]
    const [vh, vw] = [H / sh, W / sw]
    // One padding of dy serves every phase: a phase with fewer taps reads it from further in.
    const Ph = Math.max(...rows.map((r) => r.taps.length)) - 1
    const Pw = Math.max(...cols.map((c) => c.taps.length)) - 1
    const below = Math.max(0, ...rows.map((r) => r.offset + vh - OH))
    const right = Math.max(0, ...cols.map((c) => c.offset + vw - OW))
    const convs: (tf.Tensor4D | null)[] = []
    tf.tidy(() => {
      const padded = tf.pad(view<tf.Rank.R4>(dy), [
        [0, 0],
        [Ph, below],
        [Pw, right],
        [0, 0],
      ]) as tf.Tensor4D
      for (const r of rows)
        for (const c of cols)
          convs.push(
            r.taps.length && c.taps.length
              ? tf.keep(tf.conv2d(padded, phaseKernel(backend, filter, r.taps, c.taps), 1, 'valid'))
              : null,
          )
    })
    const out = backend.makeOutput([B, H, W, Ci], 'float32')
    const dx = heapF32(backend, out)
    rows.forEach((r, a) =>
      cols.forEach((c, b) => {
        const conv = convs[a * cols.length + b]
        if (!conv) {
          interleave(dx, null, [B, vh, vw, Ci], [H, W], [a, b], [sh, sw], [0, 0], [0, 0])
          return
        }
        const top = r.offset + Ph - (r.taps.length - 1)
        const left = c.offset + Pw - (c.taps.length - 1)
        const [, CH, CW] = conv.shape
        interleave(
          dx,
          heapF32(backend, conv),
          [B, vh, vw, Ci],
          [H, W],
          [a, b],
          [sh, sw],
          [top, left],
          [CH, CW],
        )
      }),
    )
    for (const t of convs) t?.dispose()
    return out
  }
}

/**
 * The stride-1 kernel of one output phase, [taps_h, taps_w, Co, Ci], flipped so the phase is a
 * plain correlation over dy (filter is [KH, KW, Ci, Co]).
 */
function phaseKernel(
  backend: WasmBackendLike,
  filter: TensorInfo,
  rowTaps: number[],
  colTaps: number[],
): tf.Tensor4D {
  const [, KW, Ci, Co] = filter.shape as [number, number, number, number]
  const [Mh, Mw] = [rowTaps.length, colTaps.length]
  const w = heapF32(backend, filter)
  const k = new Float32Array(Mh * Mw * Co * Ci)
  for (let i = 0; i < Mh; i++)
    for (let j = 0; j < Mw; j++) {
      const src = (rowTaps[Mh - 1 - i] * KW + colTaps[Mw - 1 - j]) * Ci * Co
      const dst = (i * Mw + j) * Co * Ci
      for (let ci = 0; ci < Ci; ci++)
        for (let co = 0; co < Co; co++) k[dst + co * Ci + ci] = w[src + ci * Co + co]
    }
  return tf.tensor4d(k, [Mh, Mw, Co, Ci])
}

/**
 * Writes one phase into dx: dx[b, v*sh + a, u*sw + c, :] = conv[b, v + top, u + left, :] (zeros
 * when the phase has no taps).
 */
function interleave(
  dx: Float32Array,
  conv: Float32Array | null,
  [B, vh, vw, C]: number[],
  [H, W]: number[],
  [a, c]: number[],
  [sh, sw]: number[],
  [top, left]: number[],
  [CH, CW]: number[],
): void {
  for (let b = 0; b < B; b++)
    for (let v = 0; v < vh; v++) {
      const dstRow = (b * H + v * sh + a) * W
      const srcRow = (b * CH + v + top) * CW
      for (let u = 0; u < vw; u++) {
        const dst = (dstRow + u * sw + c) * C
        if (!conv) {
          dx.fill(0, dst, dst + C)
          continue
        }
        const src = (srcRow + u + left) * C
        for (let k = 0; k < C; k++) dx[dst + k] = conv[src + k]
      }
    }
}

/**
 * For each output phase a (rows y = s*v + a), the kernel taps it uses (kh = r + s*m, r = (a + pad)
 * mod s) and the dy row offset of its first output row (floor((a + pad) / s)).
 */
export function phases(
  s: number,
  k: number,
  padBefore: number,
  _size: number,
): { taps: number[]; offset: number }[] {
  return Array.from({ length: s }, (_, a) => {
    const r = (a + padBefore) % s
    const taps: number[] = []
    for (let kh = r; kh < k; kh += s) taps.push(kh)
    return { taps, offset: Math.floor((a + padBefore) / s) }
  })
}

/**
 * BatchMatMul with transposed operands: wasm only has a fast path for plain products, so the
 * transposes (cheap) are done first. Dense layers' gradients all take this path.
 */
function makeBatchMatMul(original: KernelFunc) {
  return (args: Args): TensorInfo | TensorInfo[] => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean }
    if (!transposeA && !transposeB) return original(args as Parameters<KernelFunc>[0])
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
    return output(
      tf.tidy(() => {
        const swap = (t: tf.Tensor): tf.Tensor => {
          const perm = t.shape.map((_, i) => i)
          ;[perm[perm.length - 1], perm[perm.length - 2]] = [
            perm[perm.length - 2],
            perm[perm.length - 1],
          ]
          return tf.transpose(t, perm)
        }
        const A = transposeA ? swap(view(a)) : view(a)
        const Bm = transposeB ? swap(view(b)) : view(b)
        return tf.matMul(A, Bm)
      }),
    )
  }
}

let registered = false
/** Registers the replacement kernels once; the wasm backend must be loaded first. */
export function registerWasmKernels(): void {
  if (registered) return
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter as KernelConfig['kernelFunc'],
    })
  }
  replaceWasmKernel('Conv2DBackpropInput', (o) => makeConv2dBackpropInput(o) as KernelFunc)
  replaceWasmKernel('BatchMatMul', (o) => makeBatchMatMul(o) as KernelFunc)
  registerWasmJsKernels()
  registered = true
}
