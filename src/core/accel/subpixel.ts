import * as tf from '@tensorflow/tfjs-core'
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, type WasmBackendLike } from './heap'
import { jobMemory } from './pool'
import { pooledTransposedConvolution, transposedConvolution } from './conv-jobs'
import { simdKernels } from './simd-module'

/**
 * A transposed convolution (Conv2DBackpropInput) in "sub-pixel" form: output rows y with the same
 * (y + pad) mod stride use the same subset of kernel taps, so each of the stride^2 output phases is
 * an ordinary stride-1 convolution of dy with a small flipped kernel, and the phases interleave
 * back into dx (thin outputs, a gray or RGB image, go to col2im.ts instead). With Synthfold's
 * SIMD module, every phase of every image is one job on its threads (`pooled`, pool.ts), each
 * phase reading dy with its own padding through im2col. Without it, tf.conv2d per phase, in one of
 * two ways:
 *
 * - exact: each phase reads dy with just the padding it needs (the convolution's own implicit
 *   padding), so no convolution computes outputs that are thrown away.
 * - shared: one padded copy of dy for every phase (when a phase would need dy cropped instead).
 */

export interface Phase {
  /** Kernel taps this phase uses, ascending. */
  taps: number[]
  /** dy row (or column) of the phase's first output. */
  offset: number
}

/**
 * For each output phase a (rows y = s*v + a), the kernel taps it uses (kh = r + s*m, r = (a + pad)
 * mod s) and the dy row offset of its first output row (floor((a + pad) / s)).
 */
export function phases(s: number, k: number, padBefore: number): Phase[] {
  return Array.from({ length: s }, (_, a) => {
    const r = (a + padBefore) % s
    const taps: number[] = []
    for (let kh = r; kh < k; kh += s) taps.push(kh)
    return { taps, offset: Math.floor((a + padBefore) / s) }
  })
}

export interface SubpixelProblem {
  dy: tf.Tensor4D
  /** [KH, KW, Ci, Co]: Ci is dx's channel count, Co dy's. */
  filter: TensorInfo
  /** dx size. */
  H: number
  W: number
  rows: Phase[]
  cols: Phase[]
  strides: [number, number]
}

/** dx of the transposed convolution, as a fresh wasm tensor. */
export function subpixel(backend: WasmBackendLike, p: SubpixelProblem): TensorInfo {
  const [B] = p.dy.shape
  const Ci = p.filter.shape[2]
  const out = backend.makeOutput([B, p.H, p.W, Ci], 'float32')
  if (pooledTransposedConvolution(backend, B * p.rows.length * p.cols.length))
    pooled(backend, p, out)
  else perPhase(backend, p, out)
  return out
}

/**
 * All phases of all images as one job on Synthfold's threads (pool.ts): each phase's kernel
 * flipped into wasm memory beside a table of the phases, then per image and phase its patches
 * (with the phase's own padding of dy) times its kernel, interleaved straight into dx.
 */
function pooled(backend: WasmBackendLike, p: SubpixelProblem, out: TensorInfo): void {
  const { dy, filter, rows, cols } = p
  const Co = dy.shape[3]
  const Ci = filter.shape[2]
  const live: { a: number; b: number; r: Phase; c: Phase }[] = []
  rows.forEach((r, a) =>
    cols.forEach((c, b) => {
      if (r.taps.length && c.taps.length) live.push({ a, b, r, c })
    }),
  )
  // a phase without taps (a stride larger than the kernel) leaves its pixels at zero
  if (live.length < rows.length * cols.length) heapF32(backend, out).fill(0)
  if (!live.length) return
  const sizes = live.map(({ r, c }) => r.taps.length * c.taps.length * Co * Ci)
  const tableWords = 7 * live.length
  const memory = jobMemory(
    backend,
    4 * (tableWords + sizes.reduce((x, y) => x + y, 0)),
    'transposed convolution',
  )
  const area = memory.at
  try {
    const table = new Int32Array(heapF32(backend, out).buffer, area, tableWords)
    let kernel = area + 4 * tableWords
    live.forEach(({ a, b, r, c }, i) => {
      const [Mh, Mw] = [r.taps.length, c.taps.length]
      // top/left: the padding of dy this phase's stride-1 convolution reads (negative: cropped)
      table.set([a, b, Mh, Mw, Mh - 1 - r.offset, Mw - 1 - c.offset, kernel], 7 * i)
      flipInto(backend, filter, r.taps, c.taps, kernel)
      kernel += 4 * sizes[i]
    })
    transposedConvolution(backend, {
      dy: dy as unknown as TensorInfo,
      out,
      table: area,
      phases: live.length,
      maxTaps: Math.max(...live.map(({ r, c }) => r.taps.length * c.taps.length * Co)),
      H: p.H,
      W: p.W,
      strides: p.strides,
    })
  } finally {
    memory.free()
  }
}

/** phaseKernel's flipped [taps_h, taps_w, Co, Ci] kernel, written at byte offset `at`. */
function flipInto(
  backend: WasmBackendLike,
  filter: TensorInfo,
  rowTaps: number[],
  colTaps: number[],
  at: number,
): void {
  const [, , Ci, Co] = filter.shape
  const w = heapF32(backend, filter)
  flip(
    w,
    filter.shape,
    rowTaps,
    colTaps,
    new Float32Array(w.buffer, at, rowTaps.length * colTaps.length * Co * Ci),
  )
}

/** k[i, j, co, ci] = w[rowTaps[Mh - 1 - i], colTaps[Mw - 1 - j], ci, co] (w is [KH, KW, Ci, Co]). */
function flip(
  w: Float32Array,
  [, KW, Ci, Co]: number[],
  rowTaps: number[],
  colTaps: number[],
  k: Float32Array,
): void {
  const [Mh, Mw] = [rowTaps.length, colTaps.length]
  for (let i = 0; i < Mh; i++)
    for (let j = 0; j < Mw; j++) {
      const src = (rowTaps[Mh - 1 - i] * KW + colTaps[Mw - 1 - j]) * Ci * Co
      const dst = (i * Mw + j) * Co * Ci
      for (let ci = 0; ci < Ci; ci++)
        for (let co = 0; co < Co; co++) k[dst + co * Ci + ci] = w[src + ci * Co + co]
    }
}

/** Rows or columns of dy a phase reads, relative to its first output: [first, last]. */
const reach = (ph: Phase): [number, number] => [ph.offset - (ph.taps.length - 1), ph.offset]

function perPhase(backend: WasmBackendLike, p: SubpixelProblem, out: TensorInfo): void {
  const { dy, filter, rows, cols, H, W } = p
  const [sh, sw] = p.strides
  const [B, OH, OW] = dy.shape
  const Ci = filter.shape[2]
  const [vh, vw] = [H / sh, W / sw]
  const exact = [...rows, ...cols].every((ph) => !ph.taps.length || reach(ph)[0] <= 0)
  // shared padding: enough above and below for every phase
  const Ph = Math.max(...rows.map((r) => r.taps.length)) - 1
  const Pw = Math.max(...cols.map((c) => c.taps.length)) - 1
  const below = Math.max(0, ...rows.map((r) => r.offset + vh - OH))
  const right = Math.max(0, ...cols.map((c) => c.offset + vw - OW))
  const convs: { conv: tf.Tensor4D | null; top: number; left: number }[] = []
  tf.tidy(() => {
    const shared = exact
      ? null
      : tf.pad(dy, [
          [0, 0],
          [Ph, below],
          [Pw, right],
          [0, 0],
        ])
    for (const r of rows)
      for (const c of cols) {
        if (!r.taps.length || !c.taps.length) {
          convs.push({ conv: null, top: 0, left: 0 })
          continue
        }
        const kernel = phaseKernel(backend, filter, r.taps, c.taps)
        // exact: rows -reach[0] above, and below what the last output reads past dy's end, as
        // the convolution's own (implicit) padding: no padded copy of dy
        const pad: tf.backend_util.ExplicitPadding = shared
          ? [
              [0, 0],
              [0, 0],
              [0, 0],
              [0, 0],
            ]
          : [
              [0, 0],
              [-reach(r)[0], Math.max(0, r.offset + vh - OH)],
              [-reach(c)[0], Math.max(0, c.offset + vw - OW)],
              [0, 0],
            ]
        convs.push({
          conv: tf.keep(tf.conv2d(shared ?? dy, kernel, 1, pad)),
          top: shared ? r.offset + Ph - (r.taps.length - 1) : 0,
          left: shared ? c.offset + Pw - (c.taps.length - 1) : 0,
        })
      }
  })
  const dx = heapF32(backend, out)
  const simd = simdKernels(backend)
  rows.forEach((_, a) =>
    cols.forEach((__, b) => {
      const { conv, top, left } = convs[a * cols.length + b]
      const [CH, CW] = conv ? [conv.shape[1], conv.shape[2]] : [0, 0]
      if (simd && conv) {
        // dx[n, v*sh + a, u*sw + b, :] = conv[n, v + top, u + left, :], a block copy per pixel
        const src = pointer(backend, conv.dataId)
        const dst = pointer(backend, out.dataId)
        for (let n = 0; n < B; n++)
          simd.copy_blocks(
            src + 4 * ((n * CH + top) * CW + left) * Ci,
            dst + 4 * ((n * p.H + a) * p.W + b) * Ci,
            vh,
            vw,
            Ci,
            CW * Ci,
            Ci,
            sh * p.W * Ci,
            sw * Ci,
          )
        return
      }
      interleave(
        dx,
        conv && heapF32(backend, conv),
        [B, vh, vw, Ci],
        [H, W],
        [a, b],
        [sh, sw],
        [top, left],
        [CH, CW],
      )
    }),
  )
  for (const { conv } of convs) conv?.dispose()
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
  const [, , Ci, Co] = filter.shape
  const k = new Float32Array(rowTaps.length * colTaps.length * Co * Ci)
  flip(heapF32(backend, filter), filter.shape, rowTaps, colTaps, k)
  return tf.tensor4d(k, [rowTaps.length, colTaps.length, Co, Ci])
}

/**
 * Writes one phase into dx: dx[b, v*sh + a, u*sw + c, k] = conv[b, v + top, u + left, k] for
 * k < C (zeros when the phase has no taps). The SIMD module's block copies do the same.
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
