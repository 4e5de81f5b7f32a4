import type { ClassCalibration } from '../../shared/generation'

/**
 * A class's confidence bar sits at this quantile of its held-out real images' scores: a sample
 * passes when it looks at least as much like its class as the real images of the class mostly do
 * (chosen on bench/quality/datasets.ts over several datasets; see bench/README.md).
 */
export const CALIBRATION_QUANTILE = 0.5
/** No class's bar is above this (an easy class's real images score near 1). */
export const MAX_THRESHOLD = 0.9
/** A class with fewer held-out real images than this takes the bar of all classes pooled. */
const MIN_HELD_OUT = 4

/** The q-quantile (linear between order statistics) of finite values; NaN when there are none. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Array.from(values)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b)
  if (!v.length) return NaN
  const pos = Math.min(1, Math.max(0, q)) * (v.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(v.length - 1, lo + 1)
  return v[lo] + (v[hi] - v[lo]) * (pos - lo)
}

/**
 * Per-class confidence bars from held-out scores: for class c, the CALIBRATION_QUANTILE of the
 * probability of c that held-out models gave to the real images of c, at most MAX_THRESHOLD and
 * at least chance (1 / classes). `own[i]` and `predicted[i]` are image i's held-out probability of
 * its own class and held-out class (NaN / -1 where it was not held out); `labels[i]` its class.
 */
export function calibrate(
  own: ArrayLike<number>,
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  q = CALIBRATION_QUANTILE,
): ClassCalibration[] {
  const per = Array.from({ length: classes }, () => ({ scores: [] as number[], right: 0 }))
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]
    if (c < 0 || c >= classes || !Number.isFinite(own[i])) continue
    per[c].scores.push(own[i])
    if (predicted[i] === c) per[c].right++
  }
  const pooled = quantile(
    per.flatMap((p) => p.scores),
    q,
  )
  const chance = 1 / Math.max(1, classes)
  return per.map((p) => {
    const raw = p.scores.length >= MIN_HELD_OUT ? quantile(p.scores, q) : pooled
    const threshold = Number.isFinite(raw)
      ? Math.min(MAX_THRESHOLD, Math.max(chance, raw))
      : MAX_THRESHOLD
    return {
      threshold,
      heldOut: p.scores.length,
      heldOutAccuracy: p.scores.length ? p.right / p.scores.length : null,
      pooled: p.scores.length < MIN_HELD_OUT,
    }
  })
}
