/**
 * The evaluation split: real images of each class set aside when a dataset is first used, which
 * runs never train on and the filters' classifiers never see, so the downstream check can score a
 * classifier on images nothing upstream learned from.
 */

/** Share of a class held out. */
export const HELD_OUT_FRACTION = 0.15
/** Fewest images held out of a class that holds any out. */
export const HELD_OUT_MIN = 3
/** A class with fewer images holds none out: it needs all of them to be learned at all. */
export const HELD_OUT_MIN_CLASS = 12

/** How many of a class's `n` images are held out. */
export function heldOutCount(n: number): number {
  if (n < HELD_OUT_MIN_CLASS) return 0
  return Math.max(HELD_OUT_MIN, Math.round(n * HELD_OUT_FRACTION))
}

/** Per class of a dataset: its held-out images, or why it has none. */
export interface HeldOutClass {
  className: string
  count: number
  /** Real images of the class (held out or not). */
  total: number
}

/** One sentence on the split, for the dataset page and the evaluation card. */
export function describeHeldOut(classes: HeldOutClass[]): string {
  const held = classes.reduce((a, c) => a + c.count, 0)
  const none = classes.filter((c) => c.count === 0).map((c) => c.className)
  const base = `${held} real images (${Math.round(HELD_OUT_FRACTION * 100)}% of each class, at least ${HELD_OUT_MIN}) are held out for evaluation: runs do not train on them.`
  if (!none.length) return base
  return `${base} ${none.join(', ')} ${none.length === 1 ? 'has' : 'have'} fewer than ${HELD_OUT_MIN_CLASS} images, too few to hold any out: ${none.length === 1 ? 'its' : 'their'} recall cannot be measured.`
}

/**
 * The images a run trains on (validation included): each class without its held-out images, as
 * set aside or, before the split exists, as it will be.
 */
export function trainingImages(classes: { count: number; heldOut: number }[]): number {
  const set = classes.some((c) => c.heldOut > 0)
  return classes.reduce((a, c) => a + c.count - (set ? c.heldOut : heldOutCount(c.count)), 0)
}
