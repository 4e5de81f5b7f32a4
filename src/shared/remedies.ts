/**
 * What to do about a class that did not fill its plan, from why its samples were rejected. Pure,
 * so the generation page shows exactly the remedies it will start, and tests can check the rules.
 *
 * - Most rejected as low confidence (the samples do not look like the class to the independent
 *   classifiers): a lower temperature keeps samples nearer the class's centre; a class test a
 *   step lower lets through what the classifiers find plausible; training longer makes the
 *   decoder better at the class.
 * - Most rejected as near-copies or duplicates (samples too close to training images, or to each
 *   other): a higher temperature spreads them out; the filter's bar a step lower accepts closer
 *   ones. Training longer would only overfit further, and a lower temperature narrow them more.
 */
import {
  confidenceBar,
  type FilterReason,
  type FilterSettings,
  type GenerationClassCounts,
  type GenerationSummary,
  type Strategy,
} from './generation'
import type { RunSummary } from './runs'
import { totalEpochs, type TrainSettings } from './train-settings'

export type RemedyKind = 'lower-temperature' | 'raise-temperature' | 'relax-filter' | 'train-longer'

/** The arguments of `generations.start` for a remedy: the one class, what is missing of it. */
export interface GenerationRemedyArgs {
  runId: number
  strategy: Strategy
  maxRatio: number | null
  temperature: number
  checkpoint: 'best' | 'last'
  filters: FilterSettings
  parentId: number
}

export type RemedyAction =
  | { method: 'generations.start'; args: GenerationRemedyArgs }
  | { method: 'runs.resume'; args: { runId: number } }
  | { method: 'runs.start'; args: { datasetId: number; settings: TrainSettings } }

export interface Remedy {
  kind: RemedyKind
  /** The button: what it does, with the new value ("Lower temperature to 1.2"). */
  label: string
  /** Why it is offered and what it starts, in a sentence (the button's title). */
  why: string
  action: RemedyAction
}

export const MIN_TEMPERATURE = 0.5
export const MAX_TEMPERATURE = 3
/** Below this the near-copy and duplicate bars filter next to nothing. */
const MIN_DISTANCE_BAR = 0.1

/** Which filter rejected most of a class's samples (null: none did). Ties go in this order. */
export function mainReason(c: Pick<GenerationClassCounts, 'filtered'>): FilterReason | null {
  const order: FilterReason[] = ['low-confidence', 'near-copy', 'duplicate']
  let best: FilterReason | null = null
  for (const r of order)
    if (c.filtered[r] > 0 && (!best || c.filtered[r] > c.filtered[best])) best = r
  return best
}

const round = (x: number, step: number): number => Math.round(x / step) * step
const fmt = (x: number): string => String(Number(x.toFixed(2)))

/** A quarter lower, to one decimal, not under MIN_TEMPERATURE (1.6 → 1.2 → 0.9 → 0.7 → 0.5). */
export function lowerTemperature(t: number): number | null {
  const next = Math.max(MIN_TEMPERATURE, round(t * 0.75, 0.1))
  return next < t - 1e-9 ? Number(next.toFixed(1)) : null
}

/** A quarter higher, to one decimal, not over MAX_TEMPERATURE. */
export function raiseTemperature(t: number): number | null {
  const next = Math.min(MAX_TEMPERATURE, round(t * 1.25, 0.1))
  return next > t + 1e-9 ? Number(next.toFixed(1)) : null
}

/**
 * The class test a step lower: a fifth off the bar, to two decimals, but never down to what a
 * classifier guessing at random gives every class (1 / classes, plus a margin).
 */
export function relaxConfidence(bar: number, classes: number): number | null {
  const floor = round(1 / Math.max(1, classes) + 0.05, 0.01)
  const next = Math.max(floor, round(bar * 0.8, 0.01))
  return next < bar - 0.005 ? Number(next.toFixed(2)) : null
}

/** A near-copy or duplicate bar a quarter lower, to two decimals. */
export function relaxDistance(bar: number): number | null {
  const next = Math.max(MIN_DISTANCE_BAR, round(bar * 0.75, 0.01))
  return next < bar - 0.005 ? Number(next.toFixed(2)) : null
}

/** Training settings for a longer run: twice the epochs (and patience), the rest the same. */
export function longerSettings(s: TrainSettings): TrainSettings {
  return {
    ...s,
    epochs: Math.min(10_000, s.epochs * 2),
    earlyStoppingPatience: Math.min(10_000, s.earlyStoppingPatience * 2),
  }
}

/**
 * The remedies for one class of a finished generation, best first; none while it runs, for a
 * class that has its plan, or one short only because a person rejected samples or stopped the
 * generation (Refill covers those). `run` is the generation's run (null: not known; no training
 * remedy). A class made by classic augmentation gets none: they are the generator's remedies.
 */
export function remedies(
  g: GenerationSummary,
  c: GenerationClassCounts,
  run: RunSummary | null,
  /** Samples of the class accepted by remedies already started from this generation. */
  covered = 0,
): Remedy[] {
  // a class made by classic augmentation has only the duplicate filter, and Refill
  if (g.status === 'running' || c.source === 'augment' || c.accepted + covered >= c.planned)
    return []
  const reason = mainReason(c)
  if (!reason) return []
  const missing = c.planned - c.accepted - covered
  const tried = c.generated
  const rejectedBy = c.filtered[reason]
  const generate = (temperature: number, filters: FilterSettings): RemedyAction => ({
    method: 'generations.start',
    args: {
      runId: g.runId,
      strategy: { kind: 'targets', targets: { [c.className]: c.real + missing } },
      maxRatio: g.plan.maxRatio,
      temperature,
      checkpoint: g.checkpoint.kind,
      filters,
      parentId: g.id,
    },
  })
  const what = `${rejectedBy} of ${tried} ${c.className} samples were rejected as ${reason === 'low-confidence' ? 'low confidence' : reason === 'near-copy' ? 'near-copies' : 'duplicates'}`
  const out: Remedy[] = []
  const again = `generates the ${missing} missing ${c.className} samples in a new generation`

  if (reason === 'low-confidence') {
    const t = lowerTemperature(g.temperature)
    if (t !== null)
      out.push({
        kind: 'lower-temperature',
        label: `Lower temperature to ${fmt(t)}`,
        why: `${what}: samples nearer the class's centre look more like it. This ${again} at temperature ${fmt(t)} (was ${fmt(g.temperature)}).`,
        action: generate(t, g.filters),
      })
    const bar = confidenceBar(g, c.classIndex)
    const relaxed = relaxConfidence(bar, g.classNames.length)
    if (relaxed !== null)
      out.push({
        kind: 'relax-filter',
        label: `Relax class test to ${fmt(relaxed)}`,
        why: `${what}. This ${again} with the class test at ${fmt(relaxed)} (was ${fmt(bar)}); review what it lets through.`,
        action: generate(g.temperature, { ...g.filters, minConfidence: relaxed }),
      })
    const longer = trainLonger(run, what)
    if (longer) out.push(longer)
  } else {
    const key = reason === 'near-copy' ? 'nearCopy' : 'duplicate'
    const t = raiseTemperature(g.temperature)
    if (t !== null)
      out.push({
        kind: 'raise-temperature',
        label: `Raise temperature to ${fmt(t)}`,
        why: `${what}: a higher temperature spreads the samples out. This ${again} at temperature ${fmt(t)} (was ${fmt(g.temperature)}).`,
        action: generate(t, g.filters),
      })
    const relaxed = relaxDistance(g.filters[key])
    const name = reason === 'near-copy' ? 'near-copy bar' : 'duplicate bar'
    if (relaxed !== null)
      out.push({
        kind: 'relax-filter',
        label: `Relax ${name} to ${fmt(relaxed)}`,
        why: `${what}. This ${again} with the ${name} at ${fmt(relaxed)} (was ${fmt(g.filters[key])}); review how close they are.`,
        action: generate(g.temperature, { ...g.filters, [key]: relaxed }),
      })
  }
  return out
}

/** The remedy generations started from `g` for one class. */
export function remediesOf(
  g: GenerationSummary,
  all: GenerationSummary[],
  classIndex: number,
): GenerationSummary[] {
  return all
    .filter(
      (x) =>
        x.parentId === g.id && x.plan.rows.some((r) => r.classIndex === classIndex && r.toGenerate),
    )
    .sort((a, b) => a.id - b.id)
}

/** What a remedy generation changed from the one it remedies ("temperature 1.2, class test 0.72"). */
export function describeRemedy(parent: GenerationSummary, child: GenerationSummary): string {
  const parts: string[] = []
  if (child.temperature !== parent.temperature)
    parts.push(`temperature ${fmt(child.temperature)} (was ${fmt(parent.temperature)})`)
  const f = child.filters
  const p = parent.filters
  if (f.minConfidence !== p.minConfidence)
    parts.push(
      f.minConfidence === 'auto' ? 'class test calibrated' : `class test ${fmt(f.minConfidence)}`,
    )
  if (f.nearCopy !== p.nearCopy) parts.push(`near-copy bar ${fmt(f.nearCopy)}`)
  if (f.duplicate !== p.duplicate) parts.push(`duplicate bar ${fmt(f.duplicate)}`)
  return parts.join(', ') || 'same settings'
}

function trainLonger(run: RunSummary | null, what: string): Remedy | null {
  if (!run) return null
  const stopped =
    run.status === 'cancelled' || run.status === 'interrupted' || run.status === 'failed'
  if (stopped && run.checkpoints.length && run.epochsDone < totalEpochs(run.settings))
    return {
      kind: 'train-longer',
      label: `Resume training (epoch ${run.epochsDone} of ${totalEpochs(run.settings)})`,
      why: `${what}, and run #${run.id} stopped before its last epoch. This resumes it; generate again from it when it finishes.`,
      action: { method: 'runs.resume', args: { runId: run.id } },
    }
  if (run.status !== 'completed') return null
  const settings = longerSettings(run.settings)
  return {
    kind: 'train-longer',
    label: `Train longer (${settings.epochs} epochs)`,
    why: `${what}: a model that trains longer draws the class better. This starts a new run with run #${run.id}'s settings and ${settings.epochs} epochs (was ${run.settings.epochs}); generate again from it when it finishes.`,
    action: { method: 'runs.start', args: { datasetId: run.datasetId, settings } },
  }
}
