import * as tf from '@tensorflow/tfjs-core'
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, view, type WasmBackendLike } from './heap'
import { simdKernels } from './simd-module'

/**
 * Conv2DBackpropInput with few dx channels (a transposed convolution to a gray or RGB image,
 * the decoder's last layer) as one matrix product and a scatter-add ("col2im"), the way native
 * frameworks run it: every dy pixel's contribution to each of the KH x KW x Ci output taps is
 *   Y[(b, oh, ow), (kh, kw, ci)] = sum_co dy[b, oh, ow, co] * filter[kh, kw, ci, co]
 * and dx[b, oh*s + kh - padTop, ow*s + kw - padLeft, ci] adds it up. XNNPACK runs the thin
 * convolution the sub-pixel form needs here at a fraction of its speed; this product is wide.
 */
export function col2im(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const [B, OH, OW, Co] = dy.shape
  const [KH, KW, Ci] = filter.shape
  const { inHeight: H, inWidth: W, strideHeight: sh, strideWidth: sw } = info
  const { top, left } = info.padInfo
  const taps = KH * KW * Ci
  const y = tf.tidy(() =>
    tf.matMul(
      tf.reshape(view(dy), [B * OH * OW, Co]),
      tf.reshape(view(filter), [taps, Co]),
      false,
      true,
    ),
  )
  const out = backend.makeOutput([B, H, W, Ci], 'float32')
  const dx = heapF32(backend, out)
  dx.fill(0)
  const simd = simdKernels(backend)
  if (simd) {
    const at = (t: TensorInfo): number => pointer(backend, t.dataId)
    simd.col2im(at(y), at(out), B, OH, OW, H, W, KH, KW, Ci, sh, sw, top, left)
  } else {
    const ys = heapF32(backend, y)
    let p = 0
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++, p += taps)
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh + kh - top
            if (ih < 0 || ih >= H) continue
            const row = (b * H + ih) * W
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw + kw - left
              if (iw < 0 || iw >= W) continue
              const d = (row + iw) * Ci
              const s = p + (kh * KW + kw) * Ci
              for (let ci = 0; ci < Ci; ci++) dx[d + ci] += ys[s + ci]
            }
          }
  }
  y.dispose()
  return out
}

/**
 * Thin outputs take col2im: up to this many output phases (stride^2) times dx channels, for which
 * the sub-pixel form's convolutions have too few channels to run fast.
 */
export const COL2IM_MAX_CHANNELS = 16
