/**
 * Train/validation/test assignment of the REAL images of an export. Synthetic images are never
 * passed here: they always go to train (the caller puts them there), because a validation or
 * test set must measure how a model does on real data, and images generated from the training
 * images would leak them into the evaluation.
 */
import { rng, shuffle } from '../util/random'

export type Split = 'train' | 'val' | 'test'

export interface SplitItem {
  /** A stable identity of the image (e.g. its source path): the result is keyed by it. */
  key: string
  classIndex: number
  /**
   * Goes to test whatever the fractions: the dataset's evaluation split, which no run trained on
   * and so no synthetic image was made from. A class's test share is at least these images; the
   * rest of its test and validation counts come from the others.
   */
  test?: boolean
}

/** Checks `[train, val, test]`: each finite and ≥ 0, summing to 1 (within rounding). */
export function validateFractions(fractions: readonly [number, number, number]): void {
  if (fractions.some((f) => !Number.isFinite(f) || f < 0)) {
    throw new RangeError(`Split fractions must be numbers ≥ 0, got ${fractions.join(', ')}`)
  }
  const sum = fractions[0] + fractions[1] + fractions[2]
  if (Math.abs(sum - 1) > 1e-6) {
    throw new RangeError(`Split fractions must add up to 1, got ${fractions.join(' + ')} = ${sum}`)
  }
}

/**
 * How many of a class's `n` images go to val and test: `round(n × fraction)` each, capped at
 * what is there, and, for a class of 3 or more, at least one left for train (a class absent from
 * training cannot be learned, whatever the fractions say).
 */
export function splitCounts(
  n: number,
  fractions: readonly [number, number, number],
): { train: number; val: number; test: number } {
  let val = Math.min(n, Math.round(n * fractions[1]))
  let test = Math.min(n - val, Math.round(n * fractions[2]))
  if (n >= 3) {
    while (val + test > n - 1) {
      if (test >= val) test--
      else val--
    }
  }
  return { train: n - val - test, val, test }
}

/**
 * Stratified, seeded split: per class, the images sorted by key are shuffled with a generator
 * seeded from `seed` and the class index, then the first go to val, the next to test and the
 * rest to train (counts from {@link splitCounts}). Sorting first makes the result independent of
 * the order of `items`; seeding per class keeps a class's split unchanged when other classes
 * gain or lose images. Keys must be unique.
 */
export function assignSplits(
  items: readonly SplitItem[],
  fractions: readonly [number, number, number],
  seed: number,
): Map<string, Split> {
  validateFractions(fractions)
  const byClass = new Map<number, string[]>()
  const forced = new Map<number, number>()
  const seen = new Set<string>()
  const result = new Map<string, Split>()
  for (const { key, classIndex, test } of items) {
    if (seen.has(key)) throw new Error(`Duplicate split key: ${key}`)
    seen.add(key)
    if (test) {
      result.set(key, 'test')
      forced.set(classIndex, (forced.get(classIndex) ?? 0) + 1)
      if (!byClass.has(classIndex)) byClass.set(classIndex, [])
      continue
    }
    const keys = byClass.get(classIndex)
    if (keys) keys.push(key)
    else byClass.set(classIndex, [key])
  }
  for (const [classIndex, keys] of byClass) {
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    shuffle(keys, rng((seed ^ Math.imul(classIndex + 1, 0x9e3779b1)) >>> 0))
    const held = forced.get(classIndex) ?? 0
    const counts = splitCounts(keys.length + held, fractions)
    // the forced images count towards test; validation keeps its share; train keeps at least one
    let test = Math.max(0, counts.test - held)
    let val = counts.val
    while (held > 0 && keys.length >= 1 && val + test > keys.length - 1) {
      if (test > 0) test--
      else val--
    }
    keys.forEach((key, i) => result.set(key, i < val ? 'val' : i < val + test ? 'test' : 'train'))
  }
  return result
}
