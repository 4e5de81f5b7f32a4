/** Which classes of a dataset are too small to learn from, and what the app does with them. */

/**
 * Under this many images, a class gives the generator too little to learn it from: on the shipped
 * sample and long-tailed Fashion-MNIST (bench/quality) the classes under it are the ones whose
 * samples pass the filters least often and look least like their class.
 */
export const MIN_IMAGES_TO_LEARN = 20
/**
 * Under this many images, a run holds none of the class out for validation (the split in
 * src/core/training/data.ts), so the run cannot measure how well it knows the class.
 */
export const MIN_IMAGES_TO_HOLD_OUT = 5
/**
 * Under this many images, a generation's class test has too few held-out scores to calibrate the
 * class's own bar and uses the bar of all classes pooled (src/core/generation/calibration.ts).
 */
export const POOLED_BAR_BELOW = 4

export interface SmallClass {
  name: string
  count: number
  /** None of its images can be held out for validation. */
  noneHeldOut: boolean
  /** Its generated samples are checked against the bar of all classes pooled. */
  pooledBar: boolean
}

export interface SmallClassWarning {
  /** Smallest first. */
  classes: SmallClass[]
  title: string
  /** What the app does with these classes, and what helps; one line each. */
  lines: string[]
}

const list = (names: string[]): string =>
  names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`

/** One warning for all the classes under MIN_IMAGES_TO_LEARN (null: none is). Empty classes are skipped. */
export function smallClassWarning(
  classes: { name: string; count: number }[],
): SmallClassWarning | null {
  const small = classes
    .filter((c) => c.count > 0 && c.count < MIN_IMAGES_TO_LEARN)
    .sort((a, b) => a.count - b.count || a.name.localeCompare(b.name))
    .map((c) => ({
      name: c.name,
      count: c.count,
      noneHeldOut: c.count < MIN_IMAGES_TO_HOLD_OUT,
      pooledBar: c.count < POOLED_BAR_BELOW,
    }))
  if (!small.length) return null
  const n = small.length
  const title =
    n === 1
      ? `1 class is too small to learn from well (under ${MIN_IMAGES_TO_LEARN} images)`
      : `${n} classes are too small to learn from well (under ${MIN_IMAGES_TO_LEARN} images each)`
  const lines = [
    `${n === 1 ? 'It is' : 'They are'} trained with the others: class-balanced batches show ${n === 1 ? 'it' : 'them'} as often as the larger classes, but the generator sees few distinct images, so ${n === 1 ? 'its' : 'their'} samples tend to be blurry or close to the real ones.`,
    `After training, the run page forecasts for each class whether a generation can fill it, before you generate.`,
  ]
  const none = small.filter((c) => c.noneHeldOut).map((c) => c.name)
  if (none.length) {
    const pooled = small.filter((c) => c.pooledBar).map((c) => c.name)
    lines.push(
      `${list(none)} ${none.length === 1 ? 'has' : 'have'} fewer than ${MIN_IMAGES_TO_HOLD_OUT} images: none can be held out, so a run cannot measure how well it knows ${none.length === 1 ? 'it' : 'them'}${pooled.length ? `, and generated samples of ${list(pooled)} are checked against a bar pooled from all classes` : ''}.`,
    )
  }
  lines.push(
    `What helps: more real images of ${n === 1 ? 'this class' : 'these classes'}, or classic augmentation of ${n === 1 ? 'its' : 'their'} real images (flips, crops, small rotations) instead of generated ones.`,
  )
  return { classes: small, title, lines }
}
