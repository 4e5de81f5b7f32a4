import {
  ARM_LABELS,
  ARM_NAMES,
  SYNTHETIC_ARMS,
  type ArmName,
  type ArmResult,
} from '../../../shared/evaluation'

/** One arm's bar: its value and error bar in the chart's coordinates (0 is the axis's low end). */
export interface ArmBar {
  name: ArmName
  label: string
  synthetic: boolean
  best: boolean
  /** Mean balanced accuracy and its spread over the seeds. */
  value: number
  spread: number
  seeds: number
  /** Positions along the value axis, as fractions of its length (0..1). */
  bar: number
  low: number
  high: number
}

export interface ArmChart {
  /** The value axis's ends (balanced accuracy) and its ticks. */
  domain: [number, number]
  /** Round values along the axis, each with its position (0..1). */
  ticks: { value: number; at: number }[]
  bars: ArmBar[]
}

/**
 * The value axis of the arms' chart. Arms differ by a few points of balanced accuracy, which a
 * 0..1 axis would flatten into equal bars; the axis starts below the lowest error bar at a round
 * tick instead (the ticks say where), and ends at 1 or the next round tick above the highest.
 */
export function chartDomain(
  lows: number[],
  highs: number[],
): { domain: [number, number]; step: number } {
  const lo = Math.max(0, Math.min(...lows))
  const hi = Math.min(1, Math.max(...highs))
  const span = Math.max(hi - lo, 0.02)
  const step = span > 0.4 ? 0.2 : span > 0.2 ? 0.1 : span > 0.08 ? 0.05 : 0.02
  const start = Math.max(0, Math.floor((lo - span * 0.25) / step) * step)
  const end = Math.min(1, Math.ceil((hi + 1e-9) / step) * step)
  return { domain: [round(start), round(end > start ? end : start + step)], step }
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6

/** The chart of arms in their fixed order (free ones first), scaled to the domain. */
export function armChart(arms: ArmResult[], best: ArmName | null): ArmChart {
  const ordered = ARM_NAMES.map((n) => arms.find((a) => a.name === n)).filter(
    (a): a is ArmResult => a !== undefined,
  )
  if (!ordered.length) return { domain: [0, 1], ticks: [], bars: [] }
  const { domain, step } = chartDomain(
    ordered.map((a) => a.balancedAccuracy - a.spread),
    ordered.map((a) => a.balancedAccuracy + a.spread),
  )
  const [d0, d1] = domain
  const at = (v: number): number => Math.min(1, Math.max(0, (v - d0) / (d1 - d0)))
  const ticks: ArmChart['ticks'] = []
  for (let i = 0; d0 + i * step <= d1 + 1e-9; i++) {
    const value = round(d0 + i * step)
    ticks.push({ value, at: at(value) })
  }
  return {
    domain,
    ticks,
    bars: ordered.map((a) => ({
      name: a.name,
      label: ARM_LABELS[a.name],
      synthetic: SYNTHETIC_ARMS.includes(a.name),
      best: a.name === best,
      value: a.balancedAccuracy,
      spread: a.spread,
      seeds: a.seeds.length,
      bar: at(a.balancedAccuracy),
      low: at(a.balancedAccuracy - a.spread),
      high: at(a.balancedAccuracy + a.spread),
    })),
  }
}

export interface RecallComparison {
  /** The arm compared with class weights: the best one, or the best synthetic one when class weights won. */
  arm: ArmName
  rows: { className: string; arm: number; classWeights: number; diff: number }[]
}

/**
 * Per-class recall of the best arm against class weights, the free alternative people reach for
 * first, over the classes that have held-out images. When class weights is itself the best arm,
 * the best synthetic arm is compared with it instead. Null when either arm is missing.
 */
export function recallComparison(
  arms: ArmResult[],
  best: ArmName | null,
  heldOut: { class: string; count: number }[],
): RecallComparison | null {
  const weights = arms.find((a) => a.name === 'class-weights')
  if (!weights) return null
  let other = arms.find((a) => a.name === best)
  if (!other || other.name === 'class-weights') {
    const synthetic = arms.filter((a) => SYNTHETIC_ARMS.includes(a.name))
    other = synthetic.length
      ? synthetic.reduce((a, b) => (b.balancedAccuracy > a.balancedAccuracy ? b : a))
      : undefined
  }
  if (!other) return null
  const classes = heldOut.length
    ? heldOut.filter((h) => h.count > 0).map((h) => h.class)
    : Object.keys(weights.perClassRecall)
  const rows = classes
    .filter((c) => c in weights.perClassRecall && c in other.perClassRecall)
    .map((c) => ({
      className: c,
      arm: other.perClassRecall[c],
      classWeights: weights.perClassRecall[c],
      diff: other.perClassRecall[c] - weights.perClassRecall[c],
    }))
  return { arm: other.name, rows }
}

/** "Scored on 56 held-out real images; Ankle_boot and Bag are too small to hold any out." */
export function heldOutLine(heldOut: { class: string; count: number }[]): string {
  const n = heldOut.reduce((a, h) => a + h.count, 0)
  const none = heldOut.filter((h) => h.count === 0).map((h) => h.class)
  const base = `Scored on ${n} held-out real image${n === 1 ? '' : 's'}`
  if (!none.length) return `${base}.`
  const names = none.length === 1 ? none[0] : `${none.slice(0, -1).join(', ')} and ${none.at(-1)}`
  return `${base}; ${names} ${none.length === 1 ? 'is' : 'are'} too small to hold any out (no recall for ${none.length === 1 ? 'it' : 'them'}).`
}

/** A share as the card shows it: 81.2%. */
export const percent = (v: number): string =>
  Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—'
