import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { availableParallelism } from 'node:os'
import { initBackend } from '../../../src/core/accel/backend'
import { bceWithLogits } from '../../../src/core/accel/ops'
import { globalNormScale } from '../../../src/core/training/clipping'
import { wasmBackend } from '../../../src/core/accel/heap'
import { blockTransposePlan, transposePlan } from '../../../src/core/accel/transpose'
import { planMatMul } from '../../../src/core/accel/matmul'
import { simdWorkerCount } from '../../../src/core/accel/pool'
import { setSimdKernelsEnabled, simdKernels } from '../../../src/core/accel/simd-module'

type Case = {
  x: [number, number, number, number]
  f: [number, number, number, number]
  stride: number
  pad: 'same' | 'valid'
}

const CASES: Case[] = [
  { x: [4, 28, 28, 1], f: [3, 3, 1, 8], stride: 2, pad: 'same' },
  { x: [3, 14, 14, 8], f: [3, 3, 8, 16], stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [5, 5, 3, 4], stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 2], f: [4, 4, 2, 3], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 3], f: [4, 4, 3, 2], stride: 2, pad: 'same' },
  // a tap row of 6 floats: one vector and a tail in the SIMD im2col
  { x: [2, 9, 9, 2], f: [3, 3, 2, 5], stride: 1, pad: 'same' },
  // the SIMD filter-gradient product: 16-column tiles, an odd last row, 4- and 1-column tails,
  // and a reduction over several 128-row chunks with a partial last one (588 rows) or exactly one
  { x: [3, 14, 14, 1], f: [3, 3, 1, 38], stride: 1, pad: 'same' },
  { x: [2, 16, 16, 2], f: [4, 4, 2, 20], stride: 2, pad: 'same' },
  // images larger than one chunk of the threaded product: 7 bands of output rows each (6, ..., 4)
  { x: [3, 40, 40, 2], f: [3, 3, 2, 5], stride: 1, pad: 'same' },
  { x: [2, 46, 46, 3], f: [4, 4, 3, 16], stride: 2, pad: 'same' },
]

/** Filter gradients of a conv layer, computed on the named backend. */
async function filterGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  return CASES.map((c, i) =>
    tf.tidy(() => {
      const x = tf.randomUniform(c.x, -1, 1, 'float32', 11 + i) as tf.Tensor4D
      const w = tf.randomUniform(c.f, -1, 1, 'float32', 5 + i) as tf.Tensor4D
      const g = tf.grad((f: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad))),
      )(w)
      return g.dataSync() as Float32Array
    }),
  )
}

/** Input gradients of conv layers and transposed convolutions (both run Conv2DBackpropInput). */
async function inputGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const convT: {
    z: [number, number, number, number]
    f: [number, number, number, number]
    out: [number, number, number, number]
    s: number
    pad: 'same' | 'valid'
  }[] = [
    { z: [3, 7, 7, 8], f: [4, 4, 4, 8], out: [3, 14, 14, 4], s: 2, pad: 'same' },
    { z: [2, 4, 4, 6], f: [3, 3, 2, 6], out: [2, 8, 8, 2], s: 2, pad: 'same' },
    { z: [2, 5, 5, 3], f: [5, 5, 2, 3], out: [2, 15, 15, 2], s: 3, pad: 'same' },
    { z: [2, 5, 5, 3], f: [3, 3, 2, 3], out: [2, 11, 11, 2], s: 2, pad: 'valid' },
    // wide outputs: one convolution per phase, each with its own padding of dy
    { z: [2, 7, 7, 8], f: [4, 4, 8, 8], out: [2, 14, 14, 8], s: 2, pad: 'same' },
    { z: [2, 4, 4, 4], f: [3, 3, 8, 4], out: [2, 8, 8, 8], s: 2, pad: 'same' },
    { z: [2, 5, 5, 3], f: [5, 5, 8, 3], out: [2, 15, 15, 8], s: 3, pad: 'same' },
    { z: [2, 6, 6, 3], f: [4, 4, 8, 3], out: [2, 14, 14, 8], s: 2, pad: 'valid' },
    // a kernel smaller than the stride: some phases have no taps and stay zero
    { z: [2, 4, 4, 6], f: [2, 2, 8, 6], out: [2, 12, 12, 8], s: 3, pad: 'same' },
    // dy larger than the output implies (tfjs ignores the extra rows): the original kernel
    { z: [2, 5, 5, 3], f: [3, 3, 2, 3], out: [2, 8, 8, 2], s: 2, pad: 'valid' },
    // thin outputs (gray, RGB, stride 1 up to 16 channels): a matrix product and col2im
    { z: [2, 6, 6, 3], f: [4, 4, 1, 3], out: [2, 14, 14, 1], s: 2, pad: 'valid' },
    { z: [3, 14, 14, 5], f: [4, 4, 1, 5], out: [3, 28, 28, 1], s: 2, pad: 'same' },
    { z: [2, 7, 7, 6], f: [4, 4, 3, 6], out: [2, 14, 14, 3], s: 2, pad: 'same' },
    { z: [2, 5, 5, 3], f: [3, 3, 1, 3], out: [2, 11, 11, 1], s: 2, pad: 'valid' },
    { z: [2, 6, 6, 4], f: [3, 3, 12, 4], out: [2, 6, 6, 12], s: 1, pad: 'same' },
  ]
  const fromConvT = convT.map((c, i) =>
    tf.tidy(() => {
      const z = tf.randomUniform(c.z, -1, 1, 'float32', 21 + i) as tf.Tensor4D
      const f = tf.randomUniform(c.f, -1, 1, 'float32', 31 + i) as tf.Tensor4D
      return tf.conv2dTranspose(z, f, c.out, c.s, c.pad).dataSync() as Float32Array
    }),
  )
  const fromConv = CASES.map((c, i) =>
    tf.tidy(() => {
      const x = tf.randomUniform(c.x, -1, 1, 'float32', 41 + i) as tf.Tensor4D
      const w = tf.randomUniform(c.f, -1, 1, 'float32', 51 + i) as tf.Tensor4D
      return tf
        .grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, c.stride, c.pad))))(
          x,
        )
        .dataSync() as Float32Array
    }),
  )
  const matmuls = (
    [
      [false, true],
      [true, false],
      [true, true],
    ] as const
  ).map(([ta, tb], i) =>
    tf.tidy(() => {
      const a = tf.randomUniform(ta ? [2, 7, 5] : [2, 5, 7], -1, 1, 'float32', 61 + i)
      const b = tf.randomUniform(tb ? [2, 3, 7] : [2, 7, 3], -1, 1, 'float32', 71 + i)
      return tf.matMul(a, b, ta, tb).dataSync() as Float32Array
    }),
  )
  // explicit padding larger than the kernel reach: a phase starts below dy's first row
  const padded = [8, 1].map((ci, i) =>
    tf.tidy(() => {
      const x = tf.randomUniform([2, 10, 10, ci], -1, 1, 'float32', 81 + i) as tf.Tensor4D
      const w = tf.randomUniform([3, 3, ci, 4], -1, 1, 'float32', 91 + i) as tf.Tensor4D
      return tf
        .grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, 2, 2))))(x)
        .dataSync() as Float32Array
    }),
  )
  return [...fromConvT, ...fromConv, ...matmuls, ...padded]
}

/** Every combination of transposeA and transposeB. */
const ORIENTATIONS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const

/** Runs `body` with Synthfold's SIMD module on or off (the JavaScript loops), then turns it on. */
async function withSimd<T>(simd: boolean, body: () => Promise<T>): Promise<T> {
  setSimdKernelsEnabled(simd)
  try {
    return await body()
  } finally {
    setSimdKernelsEnabled(true)
  }
}

const mode = (simd: boolean): string => (simd ? 'SIMD module' : 'JavaScript loops')

/**
 * Matrix products (batch of one) in every orientation, with shapes the wasm kernel runs directly
 * and shapes it runs as (B^T A^T)^T, and one weight matrix used four times (packed by XNNPACK
 * and cached from the third product on).
 */
async function products(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const outs: tf.Tensor[] = []
    const shapes: [number, number, number][] = [
      [8, 2000, 400], // wide B, few rows: swapped
      [400, 2000, 8], // narrow B: direct
      [5, 3, 7], // tiny: direct
    ]
    shapes.forEach(([m, k, n], i) => {
      for (const [ta, tb] of ORIENTATIONS) {
        const a = tf.randomUniform(ta ? [k, m] : [m, k], -1, 1, 'float32', 101 + i)
        const b = tf.randomUniform(tb ? [n, k] : [k, n], -1, 1, 'float32', 111 + i)
        outs.push(tf.matMul(a, b, ta, tb))
      }
    })
    const w = tf.randomUniform([2000, 400], -1, 1, 'float32', 121)
    for (let i = 0; i < 4; i++)
      outs.push(tf.matMul(tf.randomUniform([8, 2000], -1, 1, 'float32', 131 + i), w))
    // a dense layer's three products, as training runs them
    const x = tf.randomUniform([8, 2000], -1, 1, 'float32', 141)
    const dense = tf.randomUniform([2000, 400], -1, 1, 'float32', 142)
    const dy = tf.randomUniform([8, 400], -1, 1, 'float32', 143)
    outs.push(
      ...tf.grads((xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xv, wv), dy)))([
        x,
        dense,
      ]),
    )
    return outs.map((t) => t.dataSync() as Float32Array)
  })
}

/** LeakyRelu and its gradient, and sums over leading axes (bias gradients), on the named backend. */
async function elementwise(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const x = tf.randomUniform([4, 9, 7, 5], -2, 2, 'float32', 81)
    const edge = tf.tensor1d([0, -0, 3, -3, Infinity, -Infinity, NaN, 1e-30, -1e-30])
    const outs: tf.Tensor[] = []
    for (const alpha of [0.2, 0.3, 0.01]) {
      outs.push(tf.leakyRelu(x, alpha), tf.leakyRelu(edge, alpha))
      outs.push(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, alpha), tf.cos(v))))(x))
    }
    outs.push(tf.sum(x, [0, 1, 2]), tf.sum(x, [0, 1], true), tf.sum(x, 0), tf.sum(x, [0, 1, 2, 3]))
    outs.push(tf.sum(x, [1, 2]), tf.sum(tf.reshape(x, [252, 5]), [0]))
    // the global norm for clipping: one sum-of-squares kernel a tensor on wasm (a tail of 3 here)
    outs.push(globalNormScale({ a: x, b: tf.tensor1d([1, -2, 3, 0.5, 4, -1, 2]) }, 1).norm)
    return outs.map((t) => t.dataSync() as Float32Array)
  })
}

function worstRelative(a: Float32Array[], b: Float32Array[]): number[] {
  return a.map((arr, i) => {
    expect(b[i].length).toBe(arr.length)
    let worst = 0
    arr.forEach((v, j) => {
      const w = b[i][j]
      if (v === w || (Number.isNaN(v) && Number.isNaN(w))) return
      worst = Math.max(worst, Math.abs(v - w) / Math.max(1, Math.abs(v)))
    })
    return worst
  })
}

describe('the wasm replacement kernels', () => {
  beforeAll(async () => {
    const info = await initBackend('wasm')
    expect(info.backend).toBe('wasm')
  })

  for (const simd of [true, false])
    it(`filter gradients match the cpu backend for strides, paddings and kernel sizes (${mode(simd)})`, async () => {
      await withSimd(simd, async () => {
        const wasm = await filterGrads('wasm')
        // the same bits every time, however the threads shared the work
        for (let again = 0; again < 3; again++) expect(await filterGrads('wasm')).toEqual(wasm)
        const cpu = await filterGrads('cpu')
        CASES.forEach((c, i) => {
          expect(wasm[i].length).toBe(c.f.reduce((a, b) => a * b))
          expect(worstRelative([cpu[i]], [wasm[i]])[0], `case ${i}`).toBeLessThan(1e-4)
        })
      })
    })

  for (const simd of [true, false])
    it(`transposed convolutions, conv input gradients and transposed matmuls match the cpu backend (${mode(simd)})`, async () => {
      await withSimd(simd, async () => {
        const wasm = await inputGrads('wasm')
        const cpu = await inputGrads('cpu')
        worstRelative(cpu, wasm).forEach((w, i) => expect(w, `case ${i}`).toBeLessThan(1e-4))
      })
    })

  it('matrix products match the cpu backend in either orientation, with weights fresh or cached', async () => {
    const wasm = await products('wasm')
    const cpu = await products('cpu')
    worstRelative(cpu, wasm).forEach((w, i) => expect(w, `case ${i}`).toBeLessThan(1e-4))
  })

  it('packs the smaller operand: wide fresh weights run swapped, cached or narrow ones directly', () => {
    // the encoder's dense layer at batch 64: forward, input gradient, weight gradient
    expect(planMatMul(64, 3146, 256, false, false, false).swapped).toBe(true)
    expect(planMatMul(64, 256, 3146, false, true, false).swapped).toBe(true)
    expect(planMatMul(3146, 64, 256, true, false, false).swapped).toBe(false)
    // the same weights at inference, already packed
    expect(planMatMul(64, 3146, 256, false, false, true).swapped).toBe(false)
    // im2col filter gradient: a tall reduction into a small result
    expect(planMatMul(16, 12544, 32, false, false, false).swapped).toBe(false)
    expect(planMatMul(5, 3, 7, false, false, false).swapped).toBe(false)
    // the shapes the products above are checked on take both paths
    for (const [ta, tb] of ORIENTATIONS) {
      expect(planMatMul(8, 2000, 400, ta, tb, false).swapped).toBe(true)
      expect(planMatMul(400, 2000, 8, ta, tb, false).swapped).toBe(false)
    }
  })

  for (const simd of [true, false])
    it(`LeakyRelu, its gradient, sums over leading axes and the global norm match the cpu backend (${mode(simd)})`, async () => {
      await tf.setBackend('wasm')
      expect(simdKernels(wasmBackend())).not.toBeNull()
      await withSimd(simd, async () => {
        const wasm = await elementwise('wasm')
        const cpu = await elementwise('cpu')
        worstRelative(cpu, wasm).forEach((w, i) => expect(w, `case ${i}`).toBeLessThan(1e-5))
        // NaN stays NaN, infinities keep their sign
        const edge = wasm[1]
        expect([edge[4], edge[5], edge[6]]).toEqual([Infinity, -Infinity, NaN])
      })
    })

  for (const simd of [true, false])
    it(`the cross-entropy on logits and its gradient match the cpu backend's formula (${mode(simd)})`, async () => {
      // logits from -120 to 120 (exp under- and overflow), near 0, and a count that leaves a tail
      const n = 4 * 1000 + 3
      const logits = Array.from({ length: n }, (_, i) =>
        i < 12
          ? [-120, -88, -30, -1e-4, -0, 0, 1e-6, 17, 30, 88, 120, 0.5][i]
          : ((i * 7919) % 2001) / 50 - 20,
      )
      const target = Array.from({ length: n }, (_, i) => ((i * 104729) % 1000) / 999)
      const run = async (backend: string): Promise<number[][]> => {
        await tf.setBackend(backend)
        return tf.tidy(() => {
          const l = tf.tensor3d(logits, [1, n, 1])
          const t = tf.tensor3d(target, [1, n, 1])
          const w = tf.reshape(tf.linspace(-2, 2, n), [1, n, 1])
          const loss = (v: tf.Tensor): tf.Scalar => tf.mul(bceWithLogits(tf.mul(v, w), t, 7), 2.5)
          const { value, grad } = tf.valueAndGrad(loss)(l)
          return [Array.from(value.dataSync()), Array.from(grad.dataSync())]
        })
      }
      const wasm = await withSimd(simd, () => run('wasm'))
      const cpu = await run('cpu')
      expect(wasm[0][0]).toBeCloseTo(cpu[0][0], 2) // a sum near 1e4
      expect(Math.abs(wasm[0][0] - cpu[0][0]) / cpu[0][0]).toBeLessThan(1e-6)
      wasm[1].forEach((g, i) => expect(g, `gradient ${i}`).toBeCloseTo(cpu[1][i], 6))
    })

  it('transposes (matrices, batched, NHWC to CHWN, int32, others) match the cpu backend', async () => {
    const cases: [number[], number[]][] = [
      [
        [5, 7],
        [1, 0],
      ],
      [
        [64, 33],
        [1, 0],
      ],
      [
        [3, 6, 9],
        [0, 2, 1],
      ],
      [
        [4, 3, 5, 6],
        [3, 1, 2, 0],
      ],
      [
        [2, 3, 4],
        [2, 1, 0],
      ],
      [
        [2, 3, 4, 5],
        [1, 2, 0, 3],
      ], // blocks of 5 floats
      [
        [3, 2, 2, 4, 6],
        [2, 3, 0, 1, 4],
      ], // two groups of two axes, blocks of 6
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ], // not covered: tfjs's own kernel
      [
        [3, 4, 2],
        [1, 0, 2],
      ], // blocks of 2: tfjs's own kernel
    ]
    const run = async (backend: string): Promise<number[][]> => {
      await tf.setBackend(backend)
      const out = cases.map(([shape, perm], i) =>
        tf.tidy(() =>
          Array.from(
            tf.transpose(tf.randomUniform(shape, -1, 1, 'float32', 151 + i), perm).dataSync(),
          ),
        ),
      )
      const ints = tf.tidy(() =>
        Array.from(tf.transpose(tf.reshape(tf.range(0, 35, 1, 'int32'), [5, 7])).dataSync()),
      )
      return [...out, ints]
    }
    expect(await run('wasm')).toEqual(await run('cpu'))
    expect(transposePlan([2, 3, 4, 5], [1, 2, 0, 3])).toBeNull()
    expect(transposePlan([4, 3, 5, 6], [3, 1, 2, 0])).toMatchObject({ count: 15, rows: 4, cols: 6 })
    // NHWC to HWNC, as the filter gradients use
    expect(blockTransposePlan([64, 7, 7, 64], [1, 2, 0, 3])).toEqual({
      rows: 64,
      cols: 49,
      block: 64,
    })
    expect(blockTransposePlan([2, 3, 4, 5], [0, 2, 1, 3])).toBeNull()
    expect(blockTransposePlan([3, 4, 2], [1, 0, 2])).toBeNull()
    expect(blockTransposePlan([4, 5], [1, 0])).toBeNull()
    await tf.setBackend('wasm')
  })

  it('splits (any axis, sizes or a count, -1, int32, empty parts) match the cpu backend', async () => {
    const cases: [number[], number | number[], number][] = [
      [[64, 3146], [3136, 10], 1], // the encoder's join of features and label, split by its gradient
      [[4, 6, 5], [2, -1, 1], 1],
      [[6, 3, 2], 3, 0],
      [[2, 3, 8], [3, 0, 5], -1],
    ]
    const run = async (backend: string): Promise<number[][]> => {
      await tf.setBackend(backend)
      const floats = cases.flatMap(([shape, split, axis], i) =>
        tf.tidy(() =>
          tf
            .split(tf.randomUniform(shape, -1, 1, 'float32', 171 + i), split, axis)
            .map((t) => [...t.shape, ...t.dataSync()]),
        ),
      )
      const ints = tf.tidy(() =>
        tf
          .split(tf.reshape(tf.range(0, 24, 1, 'int32'), [4, 6]), [1, 5], 1)
          .map((t) => [...t.shape, ...t.dataSync()]),
      )
      return [...floats, ...ints]
    }
    expect(await run('wasm')).toEqual(await run('cpu'))
  })

  it('Identity shares the data (no copy), and either tensor outlives the other', async () => {
    await tf.setBackend('wasm')
    const x = tf.tensor1d([1, 2, 3])
    const buffers = tf.engine().backend.numDataIds()
    const y = tf.clone(x)
    expect(tf.engine().backend.numDataIds()).toBe(buffers) // no second buffer
    x.dispose()
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3])
    const z = tf.clone(y)
    y.dispose()
    expect(Array.from(tf.add(z, 1).dataSync())).toEqual([2, 3, 4])
    z.dispose()
  })

  it('runs XNNPACK on as many threads as the machine has cores (SYNTHFOLD_WASM_THREADS overrides)', async () => {
    const info = await initBackend('wasm')
    const wanted = Number(process.env.SYNTHFOLD_WASM_THREADS) || Math.min(8, availableParallelism())
    expect(info.threads).toBe(wanted)
    expect(info.device).toContain(`${wanted} thread`)
    // Synthfold's SIMD module loads on the backend's memory (doctor would say why not), and its
    // own threaded work (filter gradients) runs on the caller and one worker fewer than that
    expect(info.notes.join('\n')).not.toContain('SIMD kernels are not in use')
    expect(simdWorkerCount(wasmBackend())).toBe(wanted - 1)
  })

  it('leaks no tensors and no backend memory', async () => {
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    const ids = tf.engine().backend.numDataIds()
    await filterGrads('wasm')
    await inputGrads('wasm')
    await products('wasm')
    await elementwise('wasm')
    await tf.setBackend('wasm')
    expect(tf.memory().numTensors).toBe(before)
    expect(tf.engine().backend.numDataIds()).toBe(ids)
  })
})
