import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src/core/accel/backend'
import { Scorer } from '../../../src/core/generation/scorer'
import { rng } from '../../../src/core/util/random'

const SIZE = 28
/** A random-noise "image" per seed: real images far from one another. */
function noise(seed: number): Uint8Array {
  const r = rng(seed)
  return Uint8Array.from({ length: SIZE * SIZE }, () => Math.floor(r() * 256))
}
/** A copy with a little per-pixel jitter. */
function jitter(img: Uint8Array, amount: number, seed: number): Uint8Array {
  const r = rng(seed)
  return img.map((v) => Math.max(0, Math.min(255, v + Math.round((r() - 0.5) * 2 * amount))))
}

describe('sample scores: near-copies, duplicates, confidence', () => {
  const reals = Array.from({ length: 30 }, (_, i) => noise(100 + i))
  const filters = { minConfidence: 0.5, nearCopy: 0.5, duplicate: 0.25 }
  beforeAll(async () => {
    await initBackend('auto')
  })

  it('flags a lightly changed copy of a training image as a near-copy and names that image', () => {
    const scorer = new Scorer(() => reals, SIZE, 1, filters)
    const copy = jitter(reals[7], 6, 1)
    const fresh = noise(999)
    const [a, b] = scorer.score(0, 1, [copy, fresh], [0.9, 0.9], [1, 2])
    expect(a.reason).toBe('near-copy')
    expect(a.nearestReal).toBe(7)
    expect(a.novelty).toBeLessThan(0.2)
    expect(b.reason).toBeNull()
    expect(b.novelty).toBeGreaterThan(0.8)
    scorer.dispose()
  })

  it('judges an augmented copy against the other real images, and only by duplicates', () => {
    const scorer = new Scorer(() => reals, SIZE, 1, filters)
    const copies = [jitter(reals[7], 6, 1), jitter(reals[7], 6, 2), jitter(reals[9], 6, 3)]
    // as generated samples: near-copies of image 7 and 9
    const plain = scorer.score(0, 1, copies, [0.1, 0.1, 0.1], [1, 2, 3])
    expect(plain.map((x) => x.reason)).toEqual(['near-copy', 'near-copy', 'near-copy'])
    // as augmented copies of those images: their own source is no reference, a low confidence
    // rejects nothing, and two copies of one image alike are still duplicates
    const aug = scorer.score(0, 1, copies, [0.1, 0.1, 0.1], [4, 5, 6], [7, 7, 9])
    expect(aug.map((x) => x.reason)).toEqual([null, 'duplicate', null])
    expect(aug[1].duplicateOf).toBe(4)
    for (const [i, x] of aug.entries()) {
      expect(x.nearestReal).not.toBe([7, 7, 9][i])
      expect(x.novelty).toBeGreaterThan(0.8)
    }
    scorer.dispose()
  })

  it('flags duplicates within a batch and against samples accepted earlier', () => {
    const scorer = new Scorer(() => reals, SIZE, 1, filters)
    const s = noise(500)
    const first = scorer.score(
      0,
      1,
      [s, jitter(s, 4, 2), noise(501)],
      [0.9, 0.9, 0.9],
      [10, 11, 12],
    )
    expect(first.map((x) => x.reason)).toEqual([null, 'duplicate', null])
    expect(first[1].duplicateOf).toBe(10)
    const later = scorer.score(0, 1, [jitter(noise(501), 4, 3)], [0.9], [13])
    expect(later[0].reason).toBe('duplicate')
    expect(later[0].duplicateOf).toBe(12)
    scorer.dispose()
  })

  it('rejects samples the classifier does not place in their class', () => {
    const scorer = new Scorer(() => reals, SIZE, 1, filters)
    const [low, high] = scorer.score(0, 1, [noise(700), noise(701)], [0.2, 0.8], [1, 2])
    expect(low.reason).toBe('low-confidence')
    expect(low.confidence).toBeCloseTo(0.2)
    expect(high.reason).toBeNull()
    scorer.dispose()
  })

  it('uses the other classes’ typical distance for a class with a single real image', () => {
    const scorer = new Scorer((c) => (c === 0 ? reals : [reals[0]]), SIZE, 1, filters)
    expect(scorer.typical(1, 2)).toBeCloseTo(scorer.typical(0, 2)!, 6)
    scorer.dispose()
  })
})
