import type { FilterReason, FilterSettings } from '../../shared/generation'
import { DEFAULT_FILTERS_ABSOLUTE_BAR } from '../../shared/generation'
import { features, median, NearestIndex } from './features'

export interface ScoredSample {
  confidence: number
  novelty: number
  nearestDistance: number
  /** Index into the class's real images (the caller maps it to an image id). */
  nearestReal: number
  duplicateOf: number | null
  reason: FilterReason | null
}

interface ClassRef {
  reals: NearestIndex
  /** Median distance from a real image to its nearest other real image of the class. */
  typical: number | null
  /** Accepted samples so far, one index per batch, and the seeds they hold. */
  pool: { index: NearestIndex; seeds: number[] }[]
}

/**
 * Scores samples of one class against the class's real images and the samples already accepted:
 *  - confidence: the independent classifiers' probability of the intended class, against the
 *    class's bar (calibrated on held-out real images, or one absolute bar);
 *  - novelty: distance to the nearest real image divided by the typical real-to-real distance of
 *    the class (1 = as far from the training set as real images are from each other; near 0 = a copy);
 *  - duplicate: closer than `filters.duplicate` (same unit) to an accepted sample, or to an
 *    earlier sample of the same batch.
 * The first failing test (near-copy, then low-confidence, then duplicate) names the reason.
 *
 * Augmented samples (`sources`: each one's own real image, by index) are copies of a real image by
 * definition, labelled by it: novelty is measured to the nearest OTHER real image and recorded,
 * but only the duplicate test can reject them. The class test is left out too: its bar is set so
 * that a share of the class's own held-out real images fail it, and an augmented copy of a real
 * image is no less of its class than the image.
 */
export class Scorer {
  private readonly refs = new Map<number, ClassRef>()
  private fallbackTypical: number | null = null

  constructor(
    private readonly realsOf: (classIndex: number) => Uint8Array[],
    private readonly size: number,
    private readonly channels: number,
    private readonly filters: FilterSettings,
    /** Per class index, the confidence bar when `filters.minConfidence` is `auto` (calibrated). */
    private readonly thresholds: number[] = [],
  ) {}

  /** The confidence a sample of this class needs. */
  threshold(classIndex: number): number {
    const m = this.filters.minConfidence
    return m === 'auto' ? (this.thresholds[classIndex] ?? DEFAULT_FILTERS_ABSOLUTE_BAR) : m
  }

  feature(img: Uint8Array): Float32Array {
    return features(img, this.size, this.channels)
  }

  /** The typical real-to-real distance of each class, computed once (median over up to 400 reals). */
  typical(classIndex: number, classCount: number): number | null {
    const own = this.ref(classIndex).typical
    if (own !== null) return own
    if (this.fallbackTypical === null) {
      const all: number[] = []
      for (let c = 0; c < classCount; c++) {
        const t = this.ref(c).typical
        if (t !== null) all.push(t)
      }
      this.fallbackTypical = median(all)
    }
    return this.fallbackTypical
  }

  score(
    classIndex: number,
    classCount: number,
    images: Uint8Array[],
    confidence: number[],
    seeds: number[],
    sources?: number[],
  ): ScoredSample[] {
    const ref = this.ref(classIndex)
    const typical = this.typical(classIndex, classCount) ?? 1
    const bar = this.threshold(classIndex)
    const feats = images.map((im) => this.feature(im))
    const near = ref.reals.nearest(feats, sources && ((q) => sources[q]))
    const dupDist = new Float32Array(images.length).fill(Infinity)
    const dupSeed: (number | null)[] = new Array(images.length).fill(null)
    for (const block of ref.pool) {
      const hit = block.index.nearest(feats)
      for (let i = 0; i < images.length; i++)
        if (hit.distance[i] < dupDist[i]) {
          dupDist[i] = hit.distance[i]
          dupSeed[i] = block.seeds[hit.index[i]]
        }
    }
    const out: ScoredSample[] = []
    const accepted: number[] = []
    for (let i = 0; i < images.length; i++) {
      // duplicates inside this batch: against samples of it already accepted
      for (const j of accepted) {
        const d = rms(feats[i], feats[j])
        if (d < dupDist[i]) {
          dupDist[i] = d
          dupSeed[i] = seeds[j]
        }
      }
      const novelty = near.distance[i] / typical
      const reason: FilterReason | null =
        !sources && novelty < this.filters.nearCopy
          ? 'near-copy'
          : !sources && confidence[i] < bar
            ? 'low-confidence'
            : dupDist[i] / typical < this.filters.duplicate
              ? 'duplicate'
              : null
      if (!reason) accepted.push(i)
      out.push({
        confidence: confidence[i],
        novelty,
        nearestDistance: near.distance[i],
        nearestReal: near.index[i],
        duplicateOf: dupDist[i] / typical < this.filters.duplicate ? dupSeed[i] : null,
        reason,
      })
    }
    this.remember(
      classIndex,
      accepted.map((i) => feats[i]),
      accepted.map((i) => seeds[i]),
    )
    return out
  }

  /** Adds accepted samples (e.g. from an earlier round of the same generation) to the duplicate pool. */
  remember(classIndex: number, feats: Float32Array[], seeds: number[]): void {
    if (!feats.length) return
    const dim = feats[0].length
    this.ref(classIndex).pool.push({ index: new NearestIndex(feats, dim), seeds })
  }

  dispose(): void {
    for (const r of this.refs.values()) {
      r.reals.dispose()
      for (const p of r.pool) p.index.dispose()
    }
    this.refs.clear()
  }

  private ref(classIndex: number): ClassRef {
    let r = this.refs.get(classIndex)
    if (r) return r
    const feats = this.realsOf(classIndex).map((im) => this.feature(im))
    const dim = feats[0]?.length ?? 1
    const reals = new NearestIndex(feats, dim)
    let typical: number | null = null
    if (feats.length >= 2) {
      const step = Math.max(1, Math.floor(feats.length / 400))
      const picks: number[] = []
      for (let i = 0; i < feats.length && picks.length < 400; i += step) picks.push(i)
      const nn = reals.nearest(
        picks.map((i) => feats[i]),
        (q) => picks[q],
      )
      typical = median(Array.from(nn.distance))
      if (typical !== null && typical <= 0) typical = null
    }
    r = { reals, typical, pool: [] }
    this.refs.set(classIndex, r)
    return r
  }
}

function rms(a: Float32Array, b: Float32Array): number {
  let s = 0
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2
  return Math.sqrt(s / a.length)
}
