import * as tf from '@tensorflow/tfjs-core'
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core'

/**
 * Kernels that the tfjs 4.22 wasm backend lacks or runs on a slow path, rebuilt from kernels it
 * runs in XNNPACK. Each is checked against the cpu backend in test/unit/ml/wasm-kernels.test.ts.
 */

type Args = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }
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
function conv2dBackpropFilter({ inputs, attrs }: Args): TensorInfo {
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
    return output(
      tf.tidy(() => {
        const dyT = view<tf.Rank.R4>(dy)
        const w = view<tf.Rank.R4>(filter)
        const rows = phases(sh, f[0], info.padInfo.top, H)
        const cols = phases(sw, f[1], info.padInfo.left, W)
        const [B, OH, OW] = dyT.shape
        const Ci = f[2]
        const grid = rows.map((r) =>
          cols.map((c) => {
            if (r.taps.length === 0 || c.taps.length === 0) return tf.zeros([B, H / sh, W / sw, Ci])
            // kernel [mh, mw, Co, Ci], flipped so the phase is a plain correlation over dy
            const k = tf.transpose(
              tf.gather(tf.gather(w, [...r.taps].reverse(), 0), [...c.taps].reverse(), 1),
              [0, 1, 3, 2],
            ) as tf.Tensor4D
            const Mh = r.taps.length
            const Mw = c.taps.length
            const padded = tf.pad(dyT, [
              [0, 0],
              [Mh - 1, Math.max(0, r.offset + H / sh - OH)],
              [Mw - 1, Math.max(0, c.offset + W / sw - OW)],
              [0, 0],
            ])
            const conv = tf.conv2d(padded as tf.Tensor4D, k, 1, 'valid')
            return tf.slice(conv, [0, r.offset, c.offset, 0], [B, H / sh, W / sw, Ci])
          }),
        )
        // [B, H/s, sh, W/s, sw, Ci] -> [B, H, W, Ci]
        const stacked = tf.stack(
          grid.map((row) => tf.stack(row, 3)),
          2,
        )
        return tf.reshape(stacked, [B, H, W, Ci])
      }),
    )
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
  const replace = (name: string, make: (original: KernelFunc) => KernelFunc): void => {
    const existing = tf.getKernel(name, 'wasm')
    if (!existing) return
    tf.unregisterKernel(name, 'wasm')
    tf.registerKernel({ ...existing, kernelFunc: make(existing.kernelFunc) })
  }
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter as KernelConfig['kernelFunc'],
    })
  }
  replace('Conv2DBackpropInput', (o) => makeConv2dBackpropInput(o) as KernelFunc)
  replace('BatchMatMul', (o) => makeBatchMatMul(o) as KernelFunc)
  registered = true
}
