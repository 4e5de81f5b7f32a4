import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../../../../src/core/accel/backend'
import {
  Quantizer,
  codeUsage,
  nearestCodes,
  straightThrough,
} from '../../../../src/core/models/vqvae/quantizer'
import { PixelCnnPrior, causalMask } from '../../../../src/core/models/vqvae/prior'
import { vqAutoencoder, vqShape } from '../../../../src/core/models/vqvae/model'
import { oneHot } from '../../../../src/core/models/cvae/model'
import { rng } from '../../../../src/core/util/random'

beforeAll(async () => {
  await initBackend('wasm')
})

describe('the VQ-VAE quantiser', () => {
  it('picks the nearest code, as a brute-force search does', () => {
    const rand = rng(5)
    const z = Array.from({ length: 40 * 6 }, () => rand() * 4 - 2)
    const e = Array.from({ length: 12 * 6 }, () => rand() * 4 - 2)
    const got = tf.tidy(() =>
      nearestCodes(tf.tensor2d(z, [40, 6]), tf.tensor2d(e, [12, 6])).dataSync(),
    )
    for (let i = 0; i < 40; i++) {
      let best = 0
      let bestD = Infinity
      for (let k = 0; k < 12; k++) {
        let d = 0
        for (let j = 0; j < 6; j++) d += (z[i * 6 + j] - e[k * 6 + j]) ** 2
        if (d < bestD) [best, bestD] = [k, d]
      }
      expect(got[i]).toBe(best)
    }
  })

  it('passes the decoder’s gradient to the encoder unchanged (straight-through)', () => {
    const shape = vqShape({
      size: 28,
      channels: 1,
      classes: 3,
      baseFilters: 8,
      codebookSize: 16,
      codeDim: 4,
      seed: 3,
    })
    const model = vqAutoencoder(shape)
    const q = new Quantizer({
      codebookSize: 16,
      codeDim: 4,
      ema: false,
      restartAfter: 100,
      seed: 1,
    })
    const rand = rng(9)
    const x = tf.tensor4d(
      Array.from({ length: 2 * 28 * 28 }, () => rand()),
      [2, 28, 28, 1],
    )
    const y = oneHot([0, 2], 3)
    const z = model.encoder.predict(x) as tf.Tensor4D
    const loss = (codes: tf.Tensor4D) =>
      tf.sum(tf.square(model.decoder.apply([codes, y]) as tf.Tensor)) as tf.Scalar
    // the gradient at the quantised grid itself, and at the encoder's output through the estimator
    const zq = tf.tidy(() => {
      const flat = tf.reshape(z, [-1, 4]) as tf.Tensor2D
      return tf.reshape(tf.gather(q.codebook, nearestCodes(flat, q.codebook)), z.shape)
    }) as tf.Tensor4D
    const atCodes = tf.grad((c: tf.Tensor) => loss(c as tf.Tensor4D))(zq)
    const atEncoder = tf.grad((t: tf.Tensor) => {
      const e = t as tf.Tensor4D
      const flat = tf.reshape(e, [-1, 4]) as tf.Tensor2D
      const picked = tf.gather(q.codebook, nearestCodes(flat, q.codebook))
      return loss(straightThrough(e, picked))
    })(z)
    const a = atCodes.dataSync()
    const b = atEncoder.dataSync()
    expect(b.length).toBe(a.length)
    expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(0)
    expect(Array.from(b)).toEqual(Array.from(a))
    // and none of it goes to the codebook through this path
    const toCodebook = tf.grad((t: tf.Tensor) => {
      const book = t as tf.Tensor2D
      const flat = tf.reshape(z, [-1, 4]) as tf.Tensor2D
      // (a zero-weighted term keeps the codebook in the graph, so tfjs computes its gradient)
      const st = loss(straightThrough(z, tf.gather(book, nearestCodes(flat, book))))
      return tf.add(st, tf.mul(tf.sum(book), 0)) as tf.Scalar
    })(q.codebook)
    expect(Math.max(...Array.from(toCodebook.dataSync(), Math.abs))).toBe(0)
    tf.dispose([x, y, z, zq, atCodes, atEncoder, toCodebook])
    q.dispose()
    model.dispose()
  })

  for (const ema of [false, true]) {
    it(`restarts dead codes on a constructed collapse (${ema ? 'EMA' : 'loss'} updates)`, () => {
      const k = 8
      const d = 3
      const q = new Quantizer({ codebookSize: k, codeDim: d, ema, restartAfter: 3, seed: 2 })
      // every code but 0 far from the data: the encoder's outputs all pick code 0
      const book = new Float32Array(k * d)
      for (let c = 1; c < k; c++) book.fill(100 + c, c * d, (c + 1) * d)
      q.codebook.assign(tf.tensor2d(book, [k, d]))
      const rand = rng(4)
      const batch = () =>
        tf.tensor2d(
          Array.from({ length: 64 * d }, () => rand() * 2 - 1),
          [64, d],
        )
      const used: number[] = []
      let restarted = 0
      for (let step = 0; step < 6; step++) {
        const z = batch()
        const idx = nearestCodes(z, q.codebook)
        used.push(codeUsage(histogram(idx.dataSync(), k)).usedCodes)
        restarted += q.update(z, idx, step)
        tf.dispose([z, idx])
      }
      // collapsed to one code until the restart after 3 steps, then most codes are in use
      expect(used.slice(0, 3)).toEqual([1, 1, 1])
      expect(restarted).toBe(k - 1)
      expect(used[5]).toBeGreaterThanOrEqual(k - 2)
      const after = q.codebook.dataSync()
      for (let c = 1; c < k; c++) expect(Math.abs(after[c * d])).toBeLessThan(1.01)
      q.dispose()
    })
  }

  it('moves codes to the mean of their vectors with EMA updates', () => {
    const q = new Quantizer({
      codebookSize: 2,
      codeDim: 1,
      ema: true,
      decay: 0.5,
      restartAfter: 1e9,
      seed: 1,
    })
    q.codebook.assign(tf.tensor2d([[-1], [1]]))
    for (let i = 0; i < 30; i++) {
      const z = tf.tensor2d([[-3], [-2], [2], [4]])
      const idx = nearestCodes(z, q.codebook)
      q.update(z, idx, i)
      tf.dispose([z, idx])
    }
    const [a, b] = q.codebook.dataSync()
    expect(a).toBeCloseTo(-2.5, 2)
    expect(b).toBeCloseTo(3, 2)
    q.dispose()
  })

  it('measures perplexity and used codes', () => {
    expect(codeUsage([5, 5, 0, 0])).toEqual({ perplexity: expect.closeTo(2, 6), usedCodes: 2 })
    expect(codeUsage([1, 1, 1, 1]).perplexity).toBeCloseTo(4, 6)
  })
})

function histogram(idx: ArrayLike<number>, k: number): number[] {
  const h = new Array<number>(k).fill(0)
  for (let i = 0; i < idx.length; i++) h[idx[i]]++
  return h
}

describe('the PixelCNN prior over the code grid', () => {
  it('has causal masks: A hides the centre, B shows it, nothing after it', () => {
    const a = causalMask(3, 'A', 1, 1).dataSync()
    const b = causalMask(3, 'B', 1, 1).dataSync()
    expect(Array.from(a)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0])
    expect(Array.from(b)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0])
  })

  it('never lets code i change the predicted distribution of any code before i', () => {
    const g = 5
    const k = 6
    const prior = new PixelCnnPrior({
      grid: g,
      codebookSize: k,
      classes: 2,
      filters: 16,
      layers: 3,
      seed: 7,
    })
    // random class biases, so the conditioning path is exercised too
    const rand = rng(11)
    for (const v of prior.variables)
      v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', Math.floor(rand() * 1e6)))
    const base = Int32Array.from({ length: g * g }, () => Math.floor(rand() * k))
    const y = oneHot([1], 2)
    const logitsOf = (codes: Int32Array) =>
      tf.tidy(() => prior.logits(tf.tensor3d(codes, [1, g, g], 'int32'), y).dataSync())
    const ref = logitsOf(base)
    let laterChanged = 0
    for (let i = 0; i < g * g; i++) {
      const changed = base.slice()
      changed[i] = (changed[i] + 1 + Math.floor(rand() * (k - 1))) % k
      const out = logitsOf(changed)
      for (let j = 0; j <= i; j++)
        for (let c = 0; c < k; c++) expect(out[j * k + c]).toBe(ref[j * k + c])
      for (let j = i + 1; j < g * g; j++)
        if (out[j * k] !== ref[j * k]) {
          laterChanged++
          break
        }
    }
    // the masks do not cut everything: a code changes what follows it
    expect(laterChanged).toBe(g * g - 1)
    y.dispose()
    prior.dispose()
  })

  it('learns a class-conditional distribution and samples it with a temperature', async () => {
    const g = 3
    const k = 4
    const prior = new PixelCnnPrior({
      grid: g,
      codebookSize: k,
      classes: 2,
      filters: 16,
      layers: 2,
      seed: 1,
    })
    // class 0: every code is 1; class 1: a checkerboard of 2 and 3
    const grids = [new Int32Array(9).fill(1), Int32Array.from({ length: 9 }, (_, i) => 2 + (i % 2))]
    const opt = tf.train.adam(0.02)
    for (let step = 0; step < 150; step++) {
      tf.tidy(() => {
        const labels = Array.from({ length: 16 }, (_, i) => i % 2)
        const codes = tf.tensor3d(
          Int32Array.from(labels.flatMap((c) => Array.from(grids[c]))),
          [16, g, g],
          'int32',
        )
        opt.minimize(() => prior.loss(codes, oneHot(labels, 2)), false, prior.variables)
      })
    }
    const zero = prior.sample(0, [1, 2, 3], 0.5)
    const one = prior.sample(1, [1, 2, 3], 0.5)
    for (const s of zero) expect(Array.from(s)).toEqual(Array.from(grids[0]))
    for (const s of one) expect(Array.from(s)).toEqual(Array.from(grids[1]))
    // each seed draws the same grid alone as in a batch
    const hot = prior.sample(1, [5, 6, 7, 8], 3)
    expect(Array.from(prior.sample(1, [7], 3)[0])).toEqual(Array.from(hot[2]))
    opt.dispose()
    prior.dispose()
  })

  it('resamples only the region of a code grid, the same for the same seed', () => {
    const g = 5
    const k = 8
    const prior = new PixelCnnPrior({
      grid: g,
      codebookSize: k,
      classes: 2,
      filters: 16,
      layers: 3,
      seed: 3,
    })
    const rand = rng(5)
    // random weights: every code has some probability, so a draw at temperature 1 varies
    for (const v of prior.variables)
      v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', Math.floor(rand() * 1e6)))
    const base = Int32Array.from({ length: g * g }, () => Math.floor(rand() * k))
    const region = { row: 1, col: 2, rows: 2, cols: 3 }
    const inside = (i: number) =>
      Math.floor(i / g) >= 1 && Math.floor(i / g) < 3 && i % g >= 2 && i % g < 5
    const seeds = [11, 12, 13, 14]
    const out = prior.resampleRegion(base, 1, region, seeds, 1)
    expect(out).toHaveLength(4)
    let changedInside = 0
    for (const grid of out)
      for (let i = 0; i < g * g; i++) {
        if (!inside(i)) expect(grid[i]).toBe(base[i])
        else if (grid[i] !== base[i]) changedInside++
      }
    expect(changedInside).toBeGreaterThan(4) // 24 cells drawn from 8 codes each
    const again = prior.resampleRegion(base, 1, region, seeds, 1)
    expect(again.map((a) => Array.from(a))).toEqual(out.map((a) => Array.from(a)))
    expect(() =>
      prior.resampleRegion(base, 1, { row: 4, col: 4, rows: 2, cols: 1 }, [1], 1),
    ).toThrow(/inside the 5 x 5/)
    prior.dispose()
  })
})
