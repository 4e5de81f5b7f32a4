/**
 * The downstream check: does adding the synthetic images help a classifier? Arms, their metrics
 * and the rules that turn class counts into loss-side baselines. Pure: shared by the ML process,
 * the CLI and the renderer.
 */

/**
 * The ways of training the same small classifier that the check compares:
 * - `real`: the real training images alone, plain cross-entropy;
 * - `class-weights`: real images, loss weighted by inverse class frequency;
 * - `logit-adjusted`: real images, logit-adjusted loss (adds tau * log prior to the logits in
 *   training; Menon et al. 2021, the same as balanced softmax at tau 1);
 * - `synthetic`: real plus accepted synthetic images, plain cross-entropy;
 * - `synthetic+logit-adjusted`: real plus synthetic, logit-adjusted over the augmented counts;
 * - `synthetic-half-weight`: real plus synthetic, synthetic images at half the loss weight;
 * - `synthetic-tail`: real plus the synthetic images of the classes below the median count only.
 */
export const ARM_NAMES = [
  'real',
  'class-weights',
  'logit-adjusted',
  'synthetic',
  'synthetic+logit-adjusted',
  'synthetic-half-weight',
  'synthetic-tail',
] as const
export type ArmName = (typeof ARM_NAMES)[number]

export const ARM_LABELS: Record<ArmName, string> = {
  real: 'Real only',
  'class-weights': 'Real, class weights',
  'logit-adjusted': 'Real, logit adjustment',
  synthetic: 'Real + synthetic',
  'synthetic+logit-adjusted': 'Real + synthetic, logit adjustment',
  'synthetic-half-weight': 'Real + synthetic at half weight',
  'synthetic-tail': 'Real + synthetic for tail classes',
}

/** Arms that use synthetic images (the rest are the free alternatives they must beat). */
export const SYNTHETIC_ARMS: readonly ArmName[] = ARM_NAMES.filter((a) => a.startsWith('synthetic'))

export interface ArmResult {
  name: ArmName
  /** Means over the seeds. */
  balancedAccuracy: number
  macroF1: number
  perClassRecall: Record<string, number>
  /** Balanced accuracy of each seed's classifier, in seed order. */
  seeds: number[]
  /** Standard deviation of the balanced accuracy over the seeds (0 with one seed). */
  spread: number
}

/** Rows: true class; columns: predicted class. */
export function confusion(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number) {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++
  return m
}

/** Per class: the share of its images put in it (NaN for a class with no images). */
export function perClassRecall(conf: number[][]): number[] {
  return conf.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0)
    return n ? row[c] / n : NaN
  })
}

/** The mean of the per-class recalls, over the classes that have test images. */
export function balancedAccuracy(conf: number[][]): number {
  const r = perClassRecall(conf).filter((v) => !Number.isNaN(v))
  return r.length ? r.reduce((a, b) => a + b, 0) / r.length : NaN
}

/** The mean of the per-class F1 scores over the classes with test images (F1 0 when never right). */
export function macroF1(conf: number[][]): number {
  const k = conf.length
  const f1: number[] = []
  for (let c = 0; c < k; c++) {
    const support = conf[c].reduce((a, b) => a + b, 0)
    if (!support) continue
    const tp = conf[c][c]
    let predicted = 0
    for (let r = 0; r < k; r++) predicted += conf[r][c]
    f1.push(tp ? (2 * tp) / (support + predicted) : 0)
  }
  return f1.length ? f1.reduce((a, b) => a + b, 0) / f1.length : NaN
}

/**
 * Inverse-frequency class weights, scaled so that the weighted loss has the plain loss's size:
 * w_c = N / (K * n_c) over the K classes present (scikit-learn's class_weight='balanced'); 0 for a
 * class without images.
 */
export function inverseFrequencyWeights(counts: number[]): number[] {
  const present = counts.filter((n) => n > 0).length
  const total = counts.reduce((a, b) => a + b, 0)
  return counts.map((n) => (n > 0 ? total / (present * n) : 0))
}

/**
 * Logit adjustment's offsets: tau * log(prior of the class). Added to the logits in training only,
 * they make the loss stop favouring the head classes. A class without images gets the smallest
 * prior of the others (its offset must be finite).
 */
export function logitAdjustment(counts: number[], tau = 1): number[] {
  const total = counts.reduce((a, b) => a + b, 0)
  const least = Math.min(...counts.filter((n) => n > 0))
  return counts.map((n) => tau * Math.log((n > 0 ? n : least) / total))
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

export function standardDeviation(xs: number[]): number {
  if (xs.length < 2) return 0
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/** The arm with the highest mean balanced accuracy. */
export function bestArm(arms: ArmResult[]): ArmResult {
  return arms.reduce((a, b) => (b.balancedAccuracy > a.balancedAccuracy ? b : a))
}

/**
 * One line a person reads first: whether the synthetic images help, against the best arm that
 * needs none. "Help" means the best synthetic arm beats the best free arm by more than the seeds'
 * spread (else it is within noise).
 */
export function verdict(arms: ArmResult[]): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`
  const free = arms.filter((a) => !SYNTHETIC_ARMS.includes(a.name))
  const synthetic = arms.filter((a) => SYNTHETIC_ARMS.includes(a.name))
  if (!free.length || !synthetic.length) return 'Not enough arms to compare.'
  const f = bestArm(free)
  const s = bestArm(synthetic)
  const gain = s.balancedAccuracy - f.balancedAccuracy
  const noise = Math.max(0.005, s.spread, f.spread)
  if (gain > noise)
    return `Synthetic images help: ${ARM_LABELS[s.name]} reaches ${pct(s.balancedAccuracy)} balanced accuracy, ${(gain * 100).toFixed(1)} points above the best without them (${ARM_LABELS[f.name]}, ${pct(f.balancedAccuracy)}).`
  if (gain < -noise)
    return `Synthetic images do not help this dataset yet: ${ARM_LABELS[f.name]} (${pct(f.balancedAccuracy)}) beats the best arm with them (${ARM_LABELS[s.name]}, ${pct(s.balancedAccuracy)}).`
  return `Synthetic images make no clear difference yet: ${ARM_LABELS[s.name]} ${pct(s.balancedAccuracy)} against ${ARM_LABELS[f.name]} ${pct(f.balancedAccuracy)}, within the seeds' spread.`
}

export type EvaluationStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'

/** One downstream check of a generation, as stored. */
export interface EvaluationSummary {
  id: number
  generationId: number
  datasetId: number
  status: EvaluationStatus
  seeds: number
  /** Passes over the real images each classifier trains for (null: the default). */
  epochs: number | null
  /** The evaluation split the arms were scored on, per class (empty until it starts). */
  heldOut: { class: string; count: number }[]
  /** Arms finished so far (all of them once completed). */
  arms: ArmResult[]
  best: ArmName | null
  verdict: string | null
  /** Wall time of the check, once over. */
  seconds: number | null
  /** False when the generation's run trained on the evaluation split (a run from before it). */
  runExcludedHeldOut: boolean
  /** Accepted synthetic images the synthetic arms trained with. */
  syntheticImages: number | null
  error: string | null
  createdAt: number
  finishedAt: number | null
}

export interface EvaluationProgress {
  evaluationId: number
  /** Classifiers trained so far, of all arms and seeds. */
  done: number
  of: number
  arm: ArmName | null
  etaSeconds: number | null
}

export type EvaluationEvent =
  | { type: 'progress'; progress: EvaluationProgress }
  | { type: 'status'; evaluation: EvaluationSummary }

/** The seeds an evaluation uses unless asked otherwise. */
export const DEFAULT_EVALUATION_SEEDS = 3

/** The loss weight of a synthetic image in the `synthetic-half-weight` arm. */
export const HALF_WEIGHT = 0.5

/**
 * The loss weight an export suggests for synthetic images: the half weight when that arm won the
 * check by more than the seeds' spread over the same images at full weight, else 1 (no evidence
 * that weighting them down helps: a win within noise is no reason to change a person's training).
 * Real images always weigh 1.
 */
export function suggestedSyntheticWeight(
  e: Pick<EvaluationSummary, 'best' | 'arms'> | null | undefined,
): number {
  if (e?.best !== 'synthetic-half-weight') return 1
  const half = e.arms.find((a) => a.name === 'synthetic-half-weight')
  const full = e.arms.find((a) => a.name === 'synthetic')
  if (!half || !full) return 1
  const noise = Math.max(0.005, half.spread, full.spread)
  return half.balancedAccuracy - full.balancedAccuracy > noise ? HALF_WEIGHT : 1
}
