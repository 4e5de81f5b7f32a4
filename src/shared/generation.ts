/** Class-balanced generation: plans, generations, samples and their review. */
import type { GenerationRate } from './generation-eta'

/** imbalanced-learn's sampling_strategy names, plus explicit per-class targets. */
export type Strategy =
  | { kind: 'not-majority' }
  | { kind: 'not-minority' }
  | { kind: 'minority' }
  | { kind: 'all' }
  /** Desired total (real + synthetic) per listed class; unlisted classes get nothing. */
  | { kind: 'targets'; targets: Record<string, number> }

export interface PlanRow {
  className: string
  classIndex: number
  real: number
  /** The total the strategy asks for (real + synthetic), before the ratio cap. */
  target: number
  toGenerate: number
  /** True when the synthetic-to-real cap lowered toGenerate. */
  capped: boolean
  total: number
}

export interface Plan {
  strategy: Strategy
  /** Synthetic images per real image, at most, per class (null: no cap). */
  maxRatio: number | null
  rows: PlanRow[]
  toGenerate: number
}

/** How a sample was made: decoded by the run's generator, or a classic augmentation of a real image. */
export type SampleSource = 'cvae' | 'augment'

/**
 * Classic augmentation instead of the generator, for the classes it cannot learn well enough:
 * their samples are label-keeping transforms of their own real images (crop, small rotation,
 * brightness and contrast, saturation on colour sets; a left-right mirror only where allowed).
 */
export interface AugmentSettings {
  /** Classes made by augmentation; every other class of the plan comes from the generator. */
  classes: string[]
  /** Of those, the classes whose images may be mirrored (not text, digits or handed objects). */
  flip: string[]
}

export const NO_AUGMENT: AugmentSettings = { classes: [], flip: [] }

/**
 * Whether a class's images may be mirrored unless a person says otherwise: yes for natural
 * images, no where the name says text or a symbol (a digit, a single letter, "letter", "text",
 * "sign"...), whose mirror image is another symbol or none.
 */
export function flipByDefault(className: string): boolean {
  const n = className.trim().toLowerCase()
  if (/^[\p{L}\p{N}]$/u.test(n) || /^\d+$/.test(n)) return false
  return !/(digit|number|letter|char|text|word|glyph|symbol|sign|arrow|numeral|alphabet|handwrit|ocr)/.test(
    n,
  )
}

/** The transform that made one augmented sample from its source image (what makes it again). */
export interface AugmentTransform {
  /** Mirrored left-right. */
  flip: boolean
  /** Rotation in degrees (counter-clockwise). */
  angle: number
  /** Side of the cropped square as a share of the image's side (1: no crop). */
  scale: number
  /** Centre of the crop, in image sides from the image's centre (within the crop's slack). */
  dx: number
  dy: number
  /** Multiplies the colour channels (alpha never changes). */
  brightness: number
  /** Stretches the colour channels around the image's mean. */
  contrast: number
  /** Blends colour channels away from (>1) or towards (<1) their grey; 1 on gray images. */
  saturation: number
}

export interface FilterSettings {
  /**
   * The class test. `auto` (the default): per class, a bar calibrated on held-out real images of
   * the class (GenerationSummary.calibration). A number: one absolute bar for every class. Samples
   * whose intended class gets a lower probability from the independent classifiers are rejected.
   */
  minConfidence: number | 'auto'
  /** Rejected as near-copies below this novelty (nearest real distance / typical real-to-real distance). */
  nearCopy: number
  /** Rejected as duplicates closer than this (same unit) to an earlier accepted sample. */
  duplicate: number
}

/**
 * Default filters and temperature, chosen on bench/quality (imbalanced Fashion-MNIST, default
 * run): the best measured trade between class accuracy, no near-copies and per-class diversity.
 */
export const DEFAULT_FILTERS: FilterSettings = {
  minConfidence: 'auto',
  nearCopy: 0.6,
  duplicate: 0.5,
}

/** How the class test was set for one class of a generation. */
export interface ClassCalibration {
  /** The confidence a sample of the class needs (calibrated, or the absolute bar asked for). */
  threshold: number
  /** Real images of the class scored by a classifier that never saw them. */
  heldOut: number
  /** Share of those the held-out classifiers put in the class (null: none held out). */
  heldOutAccuracy: number | null
  /** Too few held-out images of its own: the bar is that of all classes pooled. */
  pooled: boolean
}

export const DEFAULT_TEMPERATURE = 1.6

export type GenerationStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'

export type FilterReason = 'near-copy' | 'low-confidence' | 'duplicate'

export interface GenerationClassCounts {
  className: string
  classIndex: number
  real: number
  /** How many accepted samples the plan asks for. */
  planned: number
  generated: number
  accepted: number
  rejected: number
  reviewed: number
  filtered: Record<FilterReason, number>
  /** How this class's samples are made. */
  source: SampleSource
}

export interface GenerationSummary {
  id: number
  runId: number
  datasetId: number
  status: GenerationStatus
  checkpoint: { kind: 'best' | 'last'; epoch: number }
  temperature: number
  filters: FilterSettings
  plan: Plan
  classNames: string[]
  /** Validation accuracy of the run's classifier on held-out real images (null: none held out). */
  classifierAccuracy: number | null
  /** Per class index: the class test's bar and the held-out accuracy behind it (null: not yet). */
  calibration: ClassCalibration[] | null
  /** Classes made by classic augmentation, and which of them may be mirrored. */
  augment: AugmentSettings
  /** The generation this one is a remedy for (see remedies.ts), if any. */
  parentId: number | null
  backend: string | null
  error: string | null
  note: string | null
  /** Where the sample PNGs are, on the machine running the core. */
  folder: string
  createdAt: number
  finishedAt: number | null
  classes: GenerationClassCounts[]
}

export type SampleStatus = 'accepted' | 'rejected'

export interface SampleItem {
  id: number
  generationId: number
  classIndex: number
  className: string
  seed: number
  confidence: number
  novelty: number
  nearestImageId: number | null
  status: SampleStatus
  /** What the automatic filters found (kept when a person overrides it). */
  reason: FilterReason | null
  reviewed: boolean
  source: SampleSource
  /** The real image an augmented sample was made from (null for the generator's samples). */
  sourceImageId: number | null
}

export interface SampleDetail extends SampleItem {
  latent: number[]
  file: string
  duplicateOfSeed: number | null
  nearestDistance: number
  provenance: { runId: number; checkpoint: { kind: string; epoch: number }; temperature: number }
  /** How an augmented sample was made from its source image (null for the generator's). */
  transform: AugmentTransform | null
}

export interface GenerationProgress {
  generationId: number
  accepted: number
  target: number
  generated: number
  filtered: number
  /** Accepted samples per second, recently. */
  samplesPerSecond: number
  /** Until every class is filled or out of tries, at the acceptance rates seen (generation-eta.ts). */
  etaSeconds: number | null
  phase: 'preparing' | 'generating'
  className: string | null
  /** Samples tried (accepted or not), their rate, the forecast and the current class's counts. */
  rate: GenerationRate
}

/**
 * What a set of review decisions does (or would do) to one class of a generation, against its
 * plan and the synthetic-to-real cap the plan was made with.
 */
export interface ClassBalance {
  generationId: number
  className: string
  classIndex: number
  real: number
  planned: number
  acceptedBefore: number
  acceptedAfter: number
  /** Accepted samples beyond the plan after the decisions (0 within it). */
  overPlan: number
  /** Accepted synthetic images per real image after the decisions (null without real images). */
  ratio: number | null
  /** The plan's cap on that ratio (null: none). */
  maxRatio: number | null
  overCap: boolean
}

/** Samples accepted beyond their class's plan, over a generation's classes. */
export function overPlan(classes: Pick<GenerationClassCounts, 'accepted' | 'planned'>[]): number {
  return classes.reduce((a, c) => a + Math.max(0, c.accepted - c.planned), 0)
}

/**
 * How decisions move each class they touch: `before` holds each sample's current class and
 * status, `counts` each class's accepted count now.
 */
export function classBalance(
  generationId: number,
  plan: Plan,
  counts: Pick<GenerationClassCounts, 'classIndex' | 'accepted'>[],
  changes: { classIndex: number; from: SampleStatus; to: SampleStatus }[],
): ClassBalance[] {
  const delta = new Map<number, number>()
  for (const c of changes) {
    if (c.from === c.to) continue
    delta.set(c.classIndex, (delta.get(c.classIndex) ?? 0) + (c.to === 'accepted' ? 1 : -1))
  }
  const touched = [...new Set(changes.map((c) => c.classIndex))].sort((a, b) => a - b)
  return touched.map((classIndex) => {
    const row = plan.rows.find((r) => r.classIndex === classIndex)
    const before = counts.find((c) => c.classIndex === classIndex)?.accepted ?? 0
    const after = before + (delta.get(classIndex) ?? 0)
    const real = row?.real ?? 0
    const planned = row?.toGenerate ?? 0
    const ratio = real > 0 ? after / real : null
    return {
      generationId,
      className: row?.className ?? '?',
      classIndex,
      real,
      planned,
      acceptedBefore: before,
      acceptedAfter: after,
      overPlan: Math.max(0, after - planned),
      ratio,
      maxRatio: plan.maxRatio,
      overCap:
        plan.maxRatio !== null && (ratio === null ? after > 0 : ratio > plan.maxRatio + 1e-9),
    }
  })
}

export type GenerationEvent =
  | { type: 'progress'; progress: GenerationProgress }
  | { type: 'samples'; generationId: number; added: number }
  | { type: 'status'; generation: GenerationSummary }
  | { type: 'decided'; generationId: number; ids: number[]; status: SampleStatus }

/** The confidence a sample of this class needed in this generation. */
export function confidenceBar(g: GenerationSummary, classIndex: number): number {
  const m = g.filters.minConfidence
  if (m !== 'auto') return m
  return g.calibration?.[classIndex]?.threshold ?? DEFAULT_FILTERS_ABSOLUTE_BAR
}

/** How the class test of a generation reads, for people: "calibrated per class" or "≥ 0.9". */
export function describeConfidenceBar(g: GenerationSummary): string {
  const m = g.filters.minConfidence
  if (m !== 'auto') return `confidence ≥ ${m}`
  const bars = (g.calibration ?? []).map((c) => c.threshold)
  if (!bars.length) return 'confidence calibrated per class'
  const lo = Math.min(...bars)
  const hi = Math.max(...bars)
  return `confidence calibrated per class (${lo.toFixed(2)}–${hi.toFixed(2)})`
}

/** The bar used where a class has no calibration (an absolute bar of the earlier releases). */
export const DEFAULT_FILTERS_ABSOLUTE_BAR = 0.9

/** An augmented sample's transform, for people: "mirrored, rotated 4.2°, 92% crop, brightness +3%". */
export function describeTransform(t: AugmentTransform): string {
  const pct = (v: number) => `${v >= 1 ? '+' : '−'}${Math.abs(Math.round((v - 1) * 100))}%`
  const parts = [
    t.flip ? 'mirrored' : null,
    `rotated ${t.angle.toFixed(1)}°`,
    `${Math.round(t.scale * 100)}% crop`,
    `brightness ${pct(t.brightness)}`,
    `contrast ${pct(t.contrast)}`,
    t.saturation !== 1 ? `saturation ${pct(t.saturation)}` : null,
  ]
  return parts.filter(Boolean).join(', ')
}
