import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generate, OUT } from '../../../scripts/build-wasm.mjs'
import {
  SHARED_MEMORY_MODULE,
  UNSHARED_MEMORY_MODULE,
} from '../../../src/core/accel/simd/kernels.wasm'
import type { SimdKernels } from '../../../src/core/accel/simd-module'

/** The module on a memory of its own (the kernels only need a memory to import). */
function instantiate(shared: boolean): { k: SimdKernels; f32: Float32Array } {
  const memory = shared
    ? new WebAssembly.Memory({ initial: 4, maximum: 16, shared: true })
    : new WebAssembly.Memory({ initial: 4 })
  const base64 = shared ? SHARED_MEMORY_MODULE : UNSHARED_MEMORY_MODULE
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
  return { k: instance.exports as unknown as SimdKernels, f32: new Float32Array(memory.buffer) }
}

const f = Math.fround

describe('the SIMD kernels module', () => {
  it('is simd/*.wat as committed (run `npm run build:wasm` after editing it)', async () => {
    expect(readFileSync(OUT, 'utf8')).toBe(await generate())
  })

  for (const shared of [true, false]) {
    it(`computes what the plain formulas give, on ${shared ? 'a shared' : 'an unshared'} memory`, () => {
      const { k, f32 } = instantiate(shared)
      // 4 KiB regions (1,024 floats each); 11 elements: two vectors and a scalar tail of 3
      const n = 11
      const at = (region: number): number => region * 4096
      const x = [0.5, -2, 0, -0, 3, -1e-30, Infinity, -Infinity, NaN, 7, -4].map(f)
      f32.set(x, 0)
      k.leaky_relu(at(0), at(1), n, 0.2)
      const y = Array.from(f32.subarray(1024, 1024 + n))
      expect(y).toEqual(x.map((v) => f(v * (v > 0 ? 1 : f(0.2)))))
      expect(Object.is(y[3], -0)).toBe(true)

      const dy = x.map((_, i) => f(i - 5.5))
      f32.set(dy, 2048)
      k.leaky_relu_grad(at(2), at(0), at(3), n, 0.3)
      expect(Array.from(f32.subarray(3072, 3072 + n))).toEqual(
        dy.map((g, i) => f(g * (x[i] > 0 ? 1 : f(0.3)))),
      )

      // sum over rows: 7 rows of 19 columns (two blocks of 8 and 3 single columns)
      const rows = 7
      const inner = 19
      const m = Array.from({ length: rows * inner }, (_, i) => f(Math.sin(i) * 1000))
      f32.set(m, 4096)
      k.sum_rows(at(4), at(5), rows, inner)
      const sums = Array.from({ length: inner }, (_, j) => {
        let s = 0
        for (let r = 0; r < rows; r++) s += m[r * inner + j]
        return f(s)
      })
      expect(Array.from(f32.subarray(5120, 5120 + inner))).toEqual(sums)

      // transpose two 7 x 10 blocks (the second 3 elements on in the input, 120 in the output)
      // out of a 9-wide matrix into rows 11 wide: four-row blocks, a tail of 3 rows and of 2
      // columns; nothing outside the blocks is written
      const src = Array.from({ length: 7 * 9 + 10 }, (_, i) => f(i + 0.5))
      f32.set(src, 13 * 1024)
      f32.fill(-1, 14 * 1024, 15 * 1024)
      k.transpose(at(13), at(14), 7, 10, 9, 11, 2, 3, 120)
      const expected = Array.from({ length: 1024 }, () => -1)
      for (const [i, o] of [
        [0, 0],
        [3, 120],
      ])
        for (let r = 0; r < 7; r++)
          for (let c = 0; c < 10; c++) expected[o + c * 11 + r] = src[i + r * 9 + c]
      expect(Array.from(f32.subarray(14 * 1024, 15 * 1024))).toEqual(expected)

      // copy 2 x 3 blocks of 5 floats between strided layouts; nothing else is written
      f32.fill(-1, 15 * 1024, 16 * 1024)
      k.copy_blocks(at(13), at(15), 2, 3, 5, 20, 6, 40, 9)
      const blocks = Array.from({ length: 1024 }, () => -1)
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 3; c++)
          for (let j = 0; j < 5; j++) blocks[r * 40 + c * 9 + j] = src[r * 20 + c * 6 + j]
      expect(Array.from(f32.subarray(15 * 1024, 16 * 1024))).toEqual(blocks)

      // Adam: w, m, v, g in regions 6-9, outputs in 10-12
      const w = x.map((_, i) => f(0.1 * i - 0.3))
      const m0 = x.map((_, i) => f(0.01 * i))
      const v0 = x.map((_, i) => f(0.001 * (i + 1)))
      const g = x.map((_, i) => f(Math.cos(i)))
      ;[w, m0, v0, g].forEach((a, i) => f32.set(a, (6 + i) * 1024))
      const p = { scale: f(0.7), b1: f(0.9), b2: f(0.999), c1: f(0.19), c2: f(0.002), eps: f(1e-7) }
      const lr = f(-1e-3)
      k.adam(
        at(6),
        at(7),
        at(8),
        at(9),
        at(10),
        at(11),
        at(12),
        n,
        p.scale,
        p.b1,
        f(1 - 0.9),
        p.b2,
        f(1 - 0.999),
        p.c1,
        p.c2,
        p.eps,
        lr,
      )
      for (let i = 0; i < n; i++) {
        const gs = f(g[i] * p.scale)
        const mn = f(f(m0[i] * p.b1) + f(gs * f(1 - 0.9)))
        const vn = f(f(v0[i] * p.b2) + f(f(gs * gs) * f(1 - 0.999)))
        const step = f(f(f(mn / p.c1) / f(f(Math.sqrt(f(vn / p.c2))) + p.eps)) * lr)
        expect([f32[11 * 1024 + i], f32[12 * 1024 + i], f32[10 * 1024 + i]]).toEqual([
          mn,
          vn,
          f(step + w[i]),
        ])
      }
    })
  }
  it('claims no slot of a job while its control block is closed, and each slot once after', () => {
    const { k, f32 } = instantiate(true)
    const i32 = new Int32Array(f32.buffer)
    const ctl = 1024
    const w = ctl >> 2
    const [X, W, OUT, S] = [4096, 8192, 12288, 16384]
    f32.fill(1, X >> 2, (X >> 2) + 64)
    f32[W >> 2] = 2
    // a convolution of 16 one-pixel images (1 x 1 filter, weight 2): slot n writes out[n]
    const conv = [X, W, OUT, S, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1]
    // the last job (8 slots) all done, the next one being written: closed (slot 0xffff)
    Atomics.store(i32, w, (8 << 16) | 0xffff)
    i32[w + 1] = 0
    i32[w + 4] = 16
    i32[w + 5] = 2
    i32.set(conv, w + 6)
    // a worker that looks now (woke late, or still looping after its last slot) takes nothing
    expect(k.work(ctl, 1)).toBe(0)
    expect(f32[(OUT >> 2) + 8]).toBe(0)
    // published: every slot once, between the two threads
    Atomics.store(i32, w, 8 << 16)
    expect(k.work(ctl, 0) + k.work(ctl, 1)).toBe(16)
    expect(i32[w + 1]).toBe(16)
    expect(Array.from(f32.subarray(OUT >> 2, (OUT >> 2) + 17))).toEqual([...Array(16).fill(2), 0])
  })
})
