import type { FilterReason } from './generation'

/**
 * What a run's generator is likely to give per class, measured in the training process once the
 * run has finished: samples decoded from each class's prior (at the generation's default
 * temperature), put through the default filters with the run's own classifier as the judge, and
 * compared, image by image, with the class's real images.
 */
export interface ClassForecast {
  className: string
  /** Samples decoded for the measurement. */
  tried: number
  /** Of those, how many passed the default filters (the class test judged by the run's classifier). */
  passed: number
  /** Why the others did not pass. */
  rejected: Record<FilterReason, number>
  /**
   * Share of the samples whose nearest real image (of any class, in pixels) is one of this class:
   * a judge the decoder never trained against, unlike the run's classifier.
   */
  nearestInClass: number
  /** The same share for the class's real images (nearest other real image; null: too few). */
  realNearestInClass: number | null
  /** The class's validation images (held out from training) and the share the run's classifier got right. */
  heldOut: number
  heldOutAccuracy: number | null
}

export interface RunForecast {
  checkpoint: { kind: 'best' | 'last'; epoch: number }
  temperature: number
  /** The run's classifier on all its validation images (null: none held out, or no classifier). */
  classifierAccuracy: number | null
  heldOut: number
  /** Per class index of the run. */
  classes: ClassForecast[]
  seconds: number
}

/**
 * A class whose forecast share is below this will most likely not fill its plan: a generation
 * tries at most 8 samples per accepted one it still wants (src/core/generation/generate.ts), so it
 * needs about one in eight to pass; the bar leaves room for the forecast's optimism (its class
 * test is the run's own classifier, which the decoder learned to please).
 */
export const WEAK_CLASS_BAR = 0.25
/** Below this held-out accuracy, a run's classifier misses enough real images to say so. */
export const CLASSIFIER_WARN_BELOW = 0.85
/** Tries per wanted sample and the floor of tries per class, as the generation loop allows. */
const TRIES_PER_SAMPLE = 8
const MIN_TRIES = 64

/**
 * The share of a class's samples expected to pass the filters and be of the class: the measured
 * pass rate, lowered by how much less often a sample's nearest real image is of its class than a
 * real image's is (a sample that sits among another class's images is unlikely to be of its own).
 */
export function forecastShare(c: ClassForecast): number {
  if (c.tried <= 0) return 0
  const pass = c.passed / c.tried
  const real = c.realNearestInClass
  const looks = real && real > 0 ? Math.min(1, c.nearestInClass / real) : 1
  return pass * looks
}

/** Accepted samples a generation can expect for a class that wants `wanted`, within its attempt limit. */
export function expectedAccepted(c: ClassForecast, wanted: number): number {
  if (wanted <= 0) return 0
  const tries = Math.max(MIN_TRIES, wanted * TRIES_PER_SAMPLE)
  return Math.min(wanted, Math.floor(forecastShare(c) * tries))
}

/** Classes the generator has not learned well enough to fill from: their forecast is under the bar. */
export function weakClasses(f: RunForecast): { classIndex: number; share: number }[] {
  return f.classes
    .map((c, classIndex) => ({ classIndex, share: forecastShare(c) }))
    .filter((c) => c.share < WEAK_CLASS_BAR)
    .sort((a, b) => a.share - b.share)
}

/**
 * The classes the run's classifier gets wrong most often on held-out images, worst first: those
 * under CLASSIFIER_WARN_BELOW (and under the overall figure), at most `limit`.
 */
export function worstHeldOutClasses(
  f: RunForecast,
  limit = 3,
): { classIndex: number; accuracy: number; heldOut: number }[] {
  const overall = f.classifierAccuracy ?? 1
  return f.classes
    .map((c, classIndex) => ({ classIndex, accuracy: c.heldOutAccuracy, heldOut: c.heldOut }))
    .filter(
      (c): c is { classIndex: number; accuracy: number; heldOut: number } =>
        c.accuracy !== null && c.accuracy < CLASSIFIER_WARN_BELOW && c.accuracy <= overall,
    )
    .sort((a, b) => a.accuracy - b.accuracy || b.heldOut - a.heldOut)
    .slice(0, limit)
}

/** "74%" */
export const percent = (x: number): string => `${Math.round(x * 100)}%`
