import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { initBackend } from '../../../src/core/accel/backend'
import { planPoolProduct, setPoolMatMulEnabled } from '../../../src/core/accel/matmul'
import { productBlocks } from '../../../src/core/accel/matmul-job'
import { setRelaxedSimdEnabled } from '../../../src/core/accel/simd-module'

/**
 * Odd shapes: 16-column tiles with 4- and 1-column tails, an odd last row, reductions over several
 * 128-long chunks with a partial last one, and the dense layers' shapes (M 64, K 26 or 3146).
 */
const SHAPES: [number, number, number][] = [
  [7, 131, 83],
  [65, 300, 19],
  [2, 1000, 45],
  [131, 64, 18],
  [64, 26, 313],
  [9, 3146, 40],
]
const ORIENTATIONS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const

/** Every orientation of every shape, on the current backend, as plain arrays. */
function products(): Float32Array[] {
  return tf.tidy(() => {
    const outs: Float32Array[] = []
    SHAPES.forEach(([m, k, n], i) => {
      for (const [ta, tb] of ORIENTATIONS) {
        const a = tf.randomUniform(ta ? [k, m] : [m, k], -1, 1, 'float32', 201 + i)
        const b = tf.randomUniform(tb ? [n, k] : [k, n], -1, 1, 'float32', 211 + i)
        outs.push(tf.matMul(a, b, ta, tb).dataSync() as Float32Array)
      }
    })
    return outs
  })
}

function worstRelative(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0
  a.forEach((arr, i) => {
    expect(b[i].length).toBe(arr.length)
    arr.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - b[i][j]) / Math.max(1, Math.abs(v)))
    })
  })
  return worst
}

describe("matrix products on Synthfold's pool", () => {
  let cpu: Float32Array[]
  beforeAll(async () => {
    await tf.setBackend('cpu')
    cpu = products()
    const info = await initBackend('wasm')
    expect(info.backend).toBe('wasm')
  }, 120_000)

  for (const relaxed of [true, false])
    it(`match the cpu backend on odd shapes and tails, every orientation (${relaxed ? 'relaxed' : 'plain'} build)`, async () => {
      await tf.setBackend('wasm')
      setRelaxedSimdEnabled(relaxed)
      try {
        const pooled = products()
        expect(worstRelative(cpu, pooled)).toBeLessThan(1e-4)
        // reproducible: the same bits again
        const again = products()
        pooled.forEach((arr, i) =>
          expect(Array.from(again[i]), `case ${i}`).toEqual(Array.from(arr)),
        )
        // and within rounding of XNNPACK's products
        setPoolMatMulEnabled(false)
        expect(worstRelative(products(), pooled)).toBeLessThan(1e-4)
      } finally {
        setPoolMatMulEnabled(true)
        setRelaxedSimdEnabled(true)
      }
    })

  it('splits c into blocks that cover it once, of whole 16-column panels or row pairs', () => {
    for (const [M, N] of [
      [64, 256],
      [3146, 256],
      [64, 3136],
      [26, 3136],
      [64, 26],
      [1, 17],
      [5, 3],
      [300, 19],
    ]) {
      const { rowBlock, colBlock, colBlocks, slots } = productBlocks(M, N)
      const seen = new Uint8Array(M * N)
      for (let s = 0; s < slots; s++) {
        const i0 = Math.floor(s / colBlocks) * rowBlock
        const j0 = (s % colBlocks) * colBlock
        expect(j0 % 16).toBe(0)
        for (let i = i0; i < Math.min(M, i0 + rowBlock); i++)
          for (let j = j0; j < Math.min(N, j0 + colBlock); j++) seen[i * N + j]++
      }
      expect(
        seen.every((v) => v === 1),
        `${M} x ${N}`,
      ).toBe(true)
      expect(slots).toBeLessThanOrEqual(8)
    }
  })

  it('transposes the fewer elements for a transposed B', () => {
    // the decoder's input gradient dy (64 x 256) B^T, B 3146 x 256: C^T = B dy^T moves 64 x (256 + 3146)
    expect(planPoolProduct(64, 256, 3146, false, true).swapped).toBe(true)
    // a narrow B (n small): transpose B itself
    expect(planPoolProduct(3146, 256, 8, false, true).swapped).toBe(false)
    expect(planPoolProduct(64, 256, 3146, false, false).swapped).toBe(false)
  })
})
