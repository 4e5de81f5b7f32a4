import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fuseMultiplyAdds, moduleText } from '../../../scripts/build-wasm.mjs'
import { initBackend } from '../../../src/core/accel/backend'
import type { WasmBackendLike } from '../../../src/core/accel/heap'
import {
  RELAXED_SHARED_MEMORY_MODULE,
  RELAXED_UNSHARED_MEMORY_MODULE,
  SHARED_MEMORY_MODULE,
  UNSHARED_MEMORY_MODULE,
} from '../../../src/core/accel/simd/kernels.wasm'
import {
  relaxedSimdUnavailable,
  setRelaxedSimdEnabled,
  setRelaxedSimdValidator,
  simdPath,
  type SimdKernels,
} from '../../../src/core/accel/simd-module'
import { Trainer } from '../../../src/core/training/trainer'
import { resolveSettings } from '../../../src/shared/train-settings'

const decode = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))

/** f32x4.relaxed_madd's opcode: the SIMD prefix and 0x105 as a LEB128. */
const RELAXED_MADD = [0xfd, 0x85, 0x02]
const holds = (bytes: Uint8Array, seq: number[]): boolean =>
  bytes.some((_, i) => seq.every((b, j) => bytes[i + j] === b))

/** One build of the module on a memory of its own. */
function instantiate(base64: string, memory: WebAssembly.Memory): SimdKernels {
  return new WebAssembly.Instance(new WebAssembly.Module(decode(base64)), { env: { memory } })
    .exports as unknown as SimdKernels
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 31 - 1
  })
}

describe('relaxed SIMD: the build', () => {
  it('fuses every vector multiply-add of the products, and nothing else', () => {
    expect(fuseMultiplyAdds('(f32x4.add (local.get $c) (f32x4.mul (local.get $a) (x)))')).toBe(
      '(f32x4.relaxed_madd (local.get $a) (x) (local.get $c))',
    )
    expect(fuseMultiplyAdds('(f32x4.add (f32x4.mul\n (a) (b)) (c))')).toBe(
      '(f32x4.relaxed_madd (a) (b) (c))',
    )
    // a sum without a product, and a product without a sum, stay as they are
    const other = '(f32x4.add (a) (b)) (f32x4.mul (c) (d)) (f32x4.add (f32x4.sub (e) (f)) (g))'
    expect(fuseMultiplyAdds(other)).toBe(other)
    const plain = moduleText()
    const relaxed = moduleText(true)
    expect(plain).not.toContain('relaxed')
    // gemm has 13 vector multiply-adds: 8 in the 2 x 16 tile, 4 in the 1 x 16 one, 1 at the edge
    expect(relaxed.match(/f32x4\.relaxed_madd/g)).toHaveLength(13)
    // outside gemm (Adam, which must match tfjs to the bit, and the rest) nothing changes
    const gemm = readFileSync(
      join(import.meta.dirname, '../../../src/core/accel/simd/gemm.wat'),
      'utf8',
    ).trimEnd()
    expect(plain).toContain(gemm)
    expect(relaxed).toBe(plain.replace(gemm, fuseMultiplyAdds(gemm)))
    for (const b64 of [RELAXED_SHARED_MEMORY_MODULE, RELAXED_UNSHARED_MEMORY_MODULE])
      expect(holds(decode(b64), RELAXED_MADD)).toBe(true)
    for (const b64 of [SHARED_MEMORY_MODULE, UNSHARED_MEMORY_MODULE])
      expect(holds(decode(b64), RELAXED_MADD)).toBe(false)
  })
})

describe('relaxed SIMD: the products', () => {
  // (M, N, K) of the step's products and of their edges: the first convolution of a gray image
  // (9 taps), of an RGB one (27), 3x3x32 and 3x3x64 taps (288, 576: several chunks of 128),
  // columns past the last multiple of 16 and of 4, one row, odd everything.
  const SHAPES: [number, number, number][] = [
    [1, 1, 1],
    [3, 17, 5],
    [2, 16, 128],
    [7, 33, 129],
    [256, 32, 9],
    [256, 32, 27],
    [98, 64, 288],
    [49, 128, 576],
    [37, 21, 300],
    [5, 7, 3],
  ]
  for (const shared of [true, false])
    it(`agree with the plain build within float rounding, on ${shared ? 'a shared' : 'an unshared'} memory`, () => {
      const memory = shared
        ? new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true })
        : new WebAssembly.Memory({ initial: 64 })
      const plain = instantiate(shared ? SHARED_MEMORY_MODULE : UNSHARED_MEMORY_MODULE, memory)
      const relaxed = instantiate(
        shared ? RELAXED_SHARED_MEMORY_MODULE : RELAXED_UNSHARED_MEMORY_MODULE,
        memory,
      )
      const f32 = new Float32Array(memory.buffer)
      const A = 0
      const B = 1 << 20
      const C = 2 << 20
      let differ = 0
      for (const [M, N, K] of SHAPES)
        for (const transposed of [false, true])
          for (const accumulate of [0, 1]) {
            const a = values(M * K, M * 7 + K)
            const b = values(K * N, N * 13 + K)
            const c0 = values(M * N, M + N)
            f32.set(a, A / 4)
            f32.set(b, B / 4)
            // a transposed a is stored K x M: (i, k) at i * 4 + k * 4M
            const ars = transposed ? 4 : 4 * K
            const acs = transposed ? 4 * M : 4
            if (transposed)
              for (let i = 0; i < M; i++)
                for (let k = 0; k < K; k++) f32[A / 4 + k * M + i] = a[i * K + k]
            const run = (k: SimdKernels): Float32Array => {
              f32.set(c0, C / 4)
              k.gemm(A, ars, acs, B, 4 * N, C, 4 * N, M, N, K, accumulate)
              return f32.slice(C / 4, C / 4 + M * N)
            }
            const p = run(plain)
            const r = run(relaxed)
            for (let i = 0; i < M; i++)
              for (let j = 0; j < N; j++) {
                let exact = accumulate ? c0[i * N + j] : 0
                let scale = Math.abs(exact)
                for (let k = 0; k < K; k++) {
                  exact += a[i * K + k] * b[k * N + j]
                  scale += Math.abs(a[i * K + k] * b[k * N + j])
                }
                // both within K float roundings of the exact sum, and of each other
                const tol = 2 * (K + 1) * 2 ** -24 * scale
                const at = i * N + j
                expect(Math.abs(p[at] - exact)).toBeLessThanOrEqual(tol)
                expect(Math.abs(r[at] - exact)).toBeLessThanOrEqual(tol)
                if (p[at] !== r[at]) differ++
              }
            // the same inputs give the same bits on each build
            expect(run(relaxed)).toEqual(r)
            expect(run(plain)).toEqual(p)
          }
      // (where the CPU has a fused multiply-add, the builds round differently: `differ` > 0;
      // an engine may also run relaxed_madd unfused, so this is not asserted)
      expect(differ).toBeGreaterThanOrEqual(0)
    })
})

describe('relaxed SIMD: choosing the build', () => {
  let backend: WasmBackendLike
  beforeAll(async () => {
    await initBackend('wasm')
    backend = tf.backend() as unknown as WasmBackendLike
  })
  afterAll(() => {
    setRelaxedSimdValidator(null)
    setRelaxedSimdEnabled(true)
  })

  it('runs the relaxed build exactly where the engine validates it', () => {
    const seen: Uint8Array[] = []
    setRelaxedSimdValidator((bytes) => {
      seen.push(bytes)
      return false // an engine without relaxed SIMD
    })
    expect(simdPath(backend)).toBe('plain')
    expect(relaxedSimdUnavailable(backend)).toMatch(/does not validate relaxed SIMD/)
    // it was asked about the relaxed build itself
    expect(seen).toHaveLength(1)
    expect(holds(seen[0], RELAXED_MADD)).toBe(true)

    setRelaxedSimdValidator(() => {
      throw new Error('no such feature')
    })
    expect(simdPath(backend)).toBe('plain')

    setRelaxedSimdValidator(null)
    const engine = WebAssembly.validate(decode(RELAXED_SHARED_MEMORY_MODULE))
    expect(simdPath(backend)).toBe(engine ? 'relaxed' : 'plain')
    expect(relaxedSimdUnavailable(backend) === null).toBe(engine)
    // Node 22's V8 has relaxed SIMD
    expect(engine).toBe(true)
  })

  it('runs the plain build when told to (SYNTHFOLD_RELAXED_SIMD=0)', async () => {
    setRelaxedSimdEnabled(false)
    expect(simdPath(backend)).toBe('plain')
    expect(relaxedSimdUnavailable(backend)).toMatch(/SYNTHFOLD_RELAXED_SIMD=0/)
    setRelaxedSimdEnabled(true)
    expect(simdPath(backend)).toBe('relaxed')
    // the switch is read from the environment at start
    vi.resetModules()
    vi.stubEnv('SYNTHFOLD_RELAXED_SIMD', '0')
    try {
      const fresh = await import('../../../src/core/accel/simd-module')
      expect(fresh.simdBuilds(true).builds.map((b) => b.path)).toEqual(['plain'])
    } finally {
      vi.unstubAllEnvs()
    }
    vi.resetModules()
    const fresh = await import('../../../src/core/accel/simd-module')
    expect(fresh.simdBuilds(true).builds.map((b) => b.path)).toEqual(['relaxed', 'plain'])
  })

  it('trains reproducibly on each build, within float rounding of the other', async () => {
    const size = 28
    const n = 96
    const data = {
      size,
      channels: 1,
      classNames: Array.from({ length: 4 }, (_, i) => `c${i}`),
      pixels: Uint8Array.from({ length: n * size * size }, (_, i) => (i * 2654435761) >>> 24),
      labels: Int32Array.from({ length: n }, (_, i) => i % 4),
      ids: Int32Array.from({ length: n }, (_, i) => i + 1),
      count: n,
    }
    const settings = resolveSettings(
      { preset: 'fast', epochs: 1, batchSize: 32, baseFilters: 8, seed: 3, validationSplit: 0 },
      { size, channels: 1, imageCount: n },
    )
    const run = async (): Promise<{ losses: number[]; weights: Float32Array }> => {
      const t = new Trainer(data, settings)
      const losses: number[] = []
      for (let e = 0; e < 2; e++) {
        const m = await t.trainEpoch(
          () => {},
          () => false,
        )
        losses.push(m!.loss)
      }
      const weights = Float32Array.from(
        t.model.encoder.getWeights().flatMap((w) => Array.from(w.dataSync())),
      )
      t.dispose()
      return { losses, weights }
    }
    const onPath = async (
      relaxed: boolean,
    ): Promise<{ losses: number[]; weights: Float32Array }> => {
      setRelaxedSimdEnabled(relaxed)
      expect(simdPath(backend)).toBe(relaxed ? 'relaxed' : 'plain')
      const first = await run()
      const second = await run()
      expect(second.losses).toEqual(first.losses)
      expect(second.weights).toEqual(first.weights)
      return first
    }
    const relaxed = await onPath(true)
    const plain = await onPath(false)
    setRelaxedSimdEnabled(true)
    relaxed.losses.forEach((l, i) =>
      expect(Math.abs(l - plain.losses[i])).toBeLessThan(1e-4 * Math.abs(plain.losses[i])),
    )
    let worst = 0
    plain.weights.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - relaxed.weights[i]))))
    expect(worst).toBeLessThan(5e-4)
  })
})
