import type { TensorInfo } from '@tensorflow/tfjs-core'
import { pointer, type WasmBackendLike } from './heap'
import { pool, poolFor, runJob } from './pool'

/**
 * Matrix products as jobs on Synthfold's threads (pool.ts): c = op(a) b in the SIMD module's
 * `gemm` (fused multiply-adds on the relaxed build), c split into blocks of whole 16-column
 * panels or of row pairs, one block a slot. Every element of c is the same sum in the same order
 * whatever the blocks, so the result does not depend on the threads (simd/work.wat, `gemm_slot`).
 */

/** Kind of job (simd/work.wat, `work`). */
const MATRIX_PRODUCT = 4
/** Blocks a product is split into (fewer for a small c). */
const BLOCKS = 8

/** Whether matrixProduct can run here (a pool on this backend). */
export function pooledMatrixProduct(backend: WasmBackendLike): boolean {
  return pool(backend) !== null
}

/** How c (M x N) is split: the blocks go across the longer side, whole tiles of `gemm` each. */
export function productBlocks(
  M: number,
  N: number,
): { rowBlock: number; colBlock: number; colBlocks: number; slots: number } {
  if (N >= M) {
    const colBlock = Math.max(16, Math.ceil(N / BLOCKS / 16) * 16)
    const colBlocks = Math.max(1, Math.ceil(N / colBlock))
    return { rowBlock: Math.max(1, M), colBlock, colBlocks, slots: colBlocks }
  }
  const rowBlock = Math.max(2, Math.ceil(M / BLOCKS / 2) * 2)
  return { rowBlock, colBlock: N, colBlocks: 1, slots: Math.ceil(M / rowBlock) }
}

/**
 * out (M x N, float32) = op(a) b on every thread of the pool. a is M x K, or K x M stored when
 * `transposeA`; b is K x N; all row-major float32 in wasm memory.
 */
export function matrixProduct(
  backend: WasmBackendLike,
  a: TensorInfo,
  transposeA: boolean,
  b: TensorInfo,
  out: TensorInfo,
  M: number,
  K: number,
  N: number,
): void {
  const { p } = poolFor(backend, 'matrixProduct')
  if (M * N === 0) return
  const { rowBlock, colBlock, colBlocks, slots } = productBlocks(M, N)
  const [ars, acs] = transposeA ? [4, 4 * M] : [4 * K, 4]
  runJob(
    p,
    MATRIX_PRODUCT,
    [
      pointer(backend, a.dataId),
      ars,
      acs,
      pointer(backend, b.dataId),
      4 * N,
      pointer(backend, out.dataId),
      4 * N,
      M,
      N,
      K,
      0,
      rowBlock,
      colBlock,
      colBlocks,
    ],
    slots,
  )
}
