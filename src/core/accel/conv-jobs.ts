import type * as tf from '@tensorflow/tfjs-core'
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, type WasmBackendLike } from './heap'
import { pool, poolFor, runJob, withMemory } from './pool'

/**
 * Convolutions, transposed convolutions and filter gradients as jobs on Synthfold's threads
 * (pool.ts): each split into slots that any thread may claim, patches (im2col) times the filter or
 * dy in the SIMD module's product (simd/, `work` and the `*_slot` functions).
 */

/** Kinds of job (simd/, `work`). */
const FILTER_GRADIENT = 1
const CONVOLUTION = 2
const TRANSPOSED_CONVOLUTION = 3
/** Output rows of dy per chunk: about this many patch rows. */
const CHUNK_ROWS = 256
/** Runs of chunks a job is split into (fewer when it has fewer chunks); fixed, for determinism. */
const SLOTS = 8

/** Output rows per chunk, and chunks per image, for dy's output width and height. */
function banding(OH: number, OW: number): { band: number; bands: number } {
  const band = Math.max(1, Math.min(OH, Math.floor(CHUNK_ROWS / OW)))
  return { band, bands: Math.ceil(OH / band) }
}

/** Whether filterGradient takes this shape (there is a pool, and chunks fit 31-bit arithmetic). */
export function pooledFilterGradient(
  backend: WasmBackendLike,
  batch: number,
  info: tf.backend_util.Conv2DInfo,
): boolean {
  const { bands } = banding(info.outHeight, info.outWidth)
  return batch * bands * SLOTS < 2 ** 31 && pool(backend) !== null
}

/**
 * The patch geometry of x's im2col, as the slots read it (simd/*.wat): XH, XW, Ci, OH, OW, KH,
 * KW, sh, sw, top, left.
 */
function patchGeometry(
  [, XH, XW, Ci]: number[],
  OH: number,
  OW: number,
  info: tf.backend_util.Conv2DInfo,
): number[] {
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info
  return [XH, XW, Ci, OH, OW, KH, KW, sh, sw, info.padInfo.top, info.padInfo.left]
}

/**
 * dW[kh, kw, ci, co] = sum over b, oh, ow of x[b, oh*sh + kh - top, ow*sw + kw - left, ci] *
 * dy[b, oh, ow, co], on every thread of the pool. x and dy float32, NHWC.
 */
export function filterGradient(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { p, b } = poolFor(backend, 'filterGradient')
  const [B, , , Ci] = x.shape
  const [, OH, OW, Co] = dy.shape
  const { filterHeight: KH, filterWidth: KW } = info
  const { band, bands } = banding(OH, OW)
  const taps = KH * KW * Ci
  const count = B * bands
  const slots = Math.min(SLOTS, count)
  const scratchBytes = band * OW * taps * 4
  const cBytes = taps * Co * 4
  const out = backend.makeOutput([KH, KW, Ci, Co], 'float32')
  if (count === 0 || taps * Co === 0) {
    heapF32(backend, out).fill(0) // an empty batch: no slot writes a partial sum
    return out
  }
  return withMemory(p, b, p.threads * scratchBytes + slots * cBytes, 'filterGradient', (area) => {
    const cBase = area + p.threads * scratchBytes
    const params = [
      pointer(backend, x.dataId),
      pointer(backend, dy.dataId),
      area,
      scratchBytes,
      cBase,
      cBytes,
      ...patchGeometry(x.shape, OH, OW, info),
      Co,
      band,
      bands,
      count,
    ]
    runJob(p, FILTER_GRADIENT, params, slots)
    const o = pointer(backend, out.dataId)
    p.kernels.copy_blocks(cBase, o, 1, 1, taps * Co, 0, 0, 0, 0)
    for (let t = 1; t < slots; t++) p.kernels.add_into(o, cBase + t * cBytes, taps * Co)
    return out
  })
}

/**
 * out[b, oh, ow, co] = sum over kh, kw, ci of x[b, oh*sh + kh - top, ow*sw + kw - left, ci] *
 * w[kh, kw, ci, co] (zero outside x), on every thread of the pool: each band of output rows of an
 * image is its patches times the filter, written straight to its rows. x, w float32, NHWC.
 */
export function convolution(
  backend: WasmBackendLike,
  x: TensorInfo,
  w: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { p, b } = poolFor(backend, 'convolution')
  const [B, , , Ci] = x.shape
  const { outHeight: OH, outWidth: OW, outChannels: Co } = info
  const { band, bands } = banding(OH, OW)
  const scratchBytes = band * OW * info.filterHeight * info.filterWidth * Ci * 4
  const out = backend.makeOutput([B, OH, OW, Co], 'float32')
  if (B * OH * OW * Co === 0) return out
  return withMemory(p, b, p.threads * scratchBytes, 'convolution', (area) => {
    const params = [
      pointer(backend, x.dataId),
      pointer(backend, w.dataId),
      pointer(backend, out.dataId),
      area,
      scratchBytes,
      ...patchGeometry(x.shape, OH, OW, info),
      Co,
      band,
      bands,
    ]
    runJob(p, CONVOLUTION, params, B * bands)
    return out
  })
}

/** Whether convolution takes this one: a pool here, no dilation, slots countable in 16 bits. */
export function pooledConvolution(
  backend: WasmBackendLike,
  batch: number,
  info: tf.backend_util.Conv2DInfo,
): boolean {
  const { bands } = banding(info.outHeight, info.outWidth)
  return (
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    batch * bands < 0xffff &&
    pool(backend) !== null
  )
}

/** What `transposedConvolution` needs: the phase table and kernels already in wasm memory. */
export interface PhaseJob {
  dy: TensorInfo
  out: TensorInfo
  /** Byte offset of the table: 7 words a phase (a, b, taps high, taps wide, top, left, kernel). */
  table: number
  phases: number
  /** Patch columns of the widest phase (taps high x taps wide x dy's channels). */
  maxTaps: number
  H: number
  W: number
  strides: [number, number]
}

/**
 * A transposed convolution in sub-pixel form (subpixel.ts prepares the phases) on every
 * thread of the pool: one slot per image and phase, each a phase's patches times its kernel,
 * interleaved straight into `out`. Writes every output pixel of the phases in the table.
 */
export function transposedConvolution(backend: WasmBackendLike, job: PhaseJob): void {
  const { p, b } = poolFor(backend, 'transposedConvolution')
  const [B, OH, OW, Co] = job.dy.shape
  const Ci = job.out.shape[3]
  const [sh, sw] = job.strides
  const [vh, vw] = [job.H / sh, job.W / sw]
  const cOffset = vh * vw * job.maxTaps * 4
  const scratchBytes = cOffset + vh * vw * Ci * 4
  withMemory(p, b, p.threads * scratchBytes, 'transposedConvolution', (area) => {
    const params = [
      pointer(backend, job.dy.dataId),
      pointer(backend, job.out.dataId),
      job.table,
      job.phases,
      area,
      scratchBytes,
      cOffset,
      OH,
      OW,
      Co,
      job.H,
      job.W,
      Ci,
      vh,
      vw,
      sh,
      sw,
    ]
    runJob(p, TRANSPOSED_CONVOLUTION, params, B * job.phases)
  })
}

/** Whether transposedConvolution can take `slots` (image x phase) slots here. */
export function pooledTransposedConvolution(backend: WasmBackendLike, slots: number): boolean {
  return slots < 0xffff && pool(backend) !== null
}
