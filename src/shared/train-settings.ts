import { z } from 'zod'
import { plainErrors } from './issues'

/** The model families a run can train: the conditional VAE (beta-VAE), the WAE and the VQ-VAE. */
export const MODEL_FAMILIES = ['cvae', 'wae', 'vqvae'] as const
export type ModelFamily = (typeof MODEL_FAMILIES)[number]

/** A run's family; runs from before families were conditional VAEs. */
export const modelFamily = (s: { model?: ModelFamily }): ModelFamily => s.model ?? 'cvae'

/** What a family's divergence column holds, as charts and the CLI name it. */
export const divergenceName = (s: { model?: ModelFamily }): string =>
  modelFamily(s) === 'wae' ? 'MMD' : 'KL'

/** A run's family and its main setting, as run headers show them ("beta 1", "WAE · MMD weight 100"). */
export function familySummary(s: Partial<TrainSettings>): string {
  if (modelFamily(s) === 'wae')
    return `WAE · MMD weight ${s.waeLambda ?? WAE_DEFAULTS.lambda} · ${s.waeEncoder ?? WAE_DEFAULTS.encoder} encoder`
  return `beta ${s.beta}`
}

/** WAE defaults when a run leaves them out. */
export const WAE_DEFAULTS = { lambda: 100, encoder: 'deterministic' } as const

/**
 * Which family to pick when, as the training panel and `--help` say it. Measured on bench/quality
 * (bench/README.md, "Model families").
 */
export const MODEL_HELP: Record<ModelFamily, { name: string; help: string }> = {
  cvae: {
    name: 'Conditional VAE',
    help: 'The default: trains fastest and is the most tested. Beta weighs the KL term: higher beta gives smoother, more varied but blurrier samples; lower beta sharper reconstructions that follow the training images more closely.',
  },
  wae: {
    name: 'Wasserstein auto-encoder (WAE-MMD)',
    help: "Matches the codes of a whole batch to the prior with an MMD term instead of pulling every code towards it: reconstructions are sharper than the VAE's at the same size, with no KL to collapse. Lambda weighs the MMD; pick it when samples look blurred.",
  },
  vqvae: {
    name: 'VQ-VAE with a learned prior',
    help: 'Sharper samples, from a learned codebook of image parts and a prior over them. It trains in two stages (the autoencoder, then the prior over its codes) and wants more images: a few thousand rather than a few hundred (on the 356-image sample its prior overfits and samples are blotchy; pick the CVAE there).',
  },
}

/**
 * Every training setting, with its limits. Presets fill in defaults; anything can be overridden.
 * The schema is shared by the CLI, the API and the training process, so a bad value is refused
 * with the same message everywhere.
 */
export const trainSettings = z.strictObject({
  preset: z.enum(['fast', 'balanced', 'quality']).default('balanced'),
  /**
   * The model family (absent in runs from before families: 'cvae'). Every family is
   * class-conditional and goes through the same pipeline; `modelFamily` reads it.
   */
  model: z.enum(MODEL_FAMILIES).optional(),
  /** WAE: weight lambda of the MMD between the batch's codes and the prior (absent: WAE_DEFAULTS). */
  waeLambda: z.number().min(0).max(10_000).optional(),
  /** WAE: z = mu (deterministic, the WAE paper's choice) or z = mu + sigma * eps (absent: deterministic). */
  waeEncoder: z.enum(['deterministic', 'stochastic']).optional(),
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(2).max(1024),
  latentDim: z.number().int().min(2).max(512),
  baseFilters: z.number().int().min(4).max(256),
  beta: z.number().min(0).max(100),
  klWarmupEpochs: z.number().min(0).max(10_000),
  freeBits: z.number().min(0).max(10),
  reconstruction: z.enum(['mse', 'bce', 'gaussian']),
  learningRate: z.number().gt(0).max(1),
  lrSchedule: z.enum(['constant', 'cosine', 'step']),
  clipNorm: z.number().min(0).max(1e6),
  batchNorm: z.boolean(),
  validationSplit: z.number().min(0).max(0.5),
  earlyStoppingPatience: z.number().int().min(0).max(10_000),
  classBalanced: z.boolean(),
  /** Weight of the class loss on decoded prior samples (0 turns the auxiliary classifier off). */
  classLossWeight: z.number().min(0).max(1000),
  /**
   * Differentiable augmentation of the class loss: real images the classifier learns from and
   * decoded images it judges are shifted alike (0: off; else the largest shift, in pixels).
   */
  classAugmentShift: z.number().int().min(0).max(8).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  checkpointEvery: z.number().int().min(1).max(10_000),
  /**
   * Wall-clock seconds after which the trainer stops and keeps its best checkpoint (0: none). Set
   * from the preset's budget when the epochs are planned; a person's epoch count runs in full.
   */
  timeBudgetSeconds: z
    .number()
    .min(0)
    .max(7 * 24 * 3600),
  /** VQ-VAE: vectors in the codebook (K). */
  vqCodebookSize: z.number().int().min(8).max(1024).optional(),
  /** VQ-VAE: size of each code vector (D). */
  vqCodeDim: z.number().int().min(2).max(256).optional(),
  /** VQ-VAE: weight of the commitment loss (beta of the VQ-VAE paper). */
  vqCommitment: z.number().min(0).max(10).optional(),
  /** VQ-VAE: move codes by exponential moving averages instead of the codebook loss. */
  vqEma: z.boolean().optional(),
  /** VQ-VAE: epochs of the second stage, the prior over the code grid. */
  priorEpochs: z.number().int().min(1).max(10_000).optional(),
})
export type TrainSettings = z.output<typeof trainSettings>

/** What each setting is called wherever a person reads it: the training panel, the comparison. */
export const SETTING_LABELS: Record<keyof TrainSettings, string> = {
  preset: 'Preset',
  model: 'Model family',
  waeLambda: 'MMD weight (lambda)',
  waeEncoder: 'WAE encoder',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  latentDim: 'Latent size',
  baseFilters: 'Base filters',
  beta: 'Beta (KL weight)',
  klWarmupEpochs: 'KL warm-up (epochs)',
  freeBits: 'Free bits (nats per unit)',
  reconstruction: 'Reconstruction loss',
  learningRate: 'Learning rate',
  lrSchedule: 'Learning rate schedule',
  clipNorm: 'Gradient clipping',
  batchNorm: 'Batch norm',
  validationSplit: 'Validation split',
  earlyStoppingPatience: 'Early stopping patience',
  classBalanced: 'Class-balanced batches',
  classLossWeight: 'Class loss weight',
  classAugmentShift: 'Class loss augmentation (shift, px)',
  seed: 'Seed',
  checkpointEvery: 'Checkpoint every (epochs)',
  timeBudgetSeconds: 'Time budget (seconds)',
  vqCodebookSize: 'Codebook size (codes)',
  vqCodeDim: 'Code size',
  vqCommitment: 'Commitment weight',
  vqEma: 'EMA codebook updates',
  priorEpochs: 'Prior epochs (stage 2)',
}

/** A VQ-VAE run's own settings, with the defaults a run without them gets. */
export function vqSettings(s: TrainSettings): {
  codebookSize: number
  codeDim: number
  commitment: number
  ema: boolean
  priorEpochs: number
} {
  return {
    codebookSize: s.vqCodebookSize ?? 64,
    codeDim: s.vqCodeDim ?? 16,
    commitment: s.vqCommitment ?? 0.25,
    ema: s.vqEma ?? true,
    priorEpochs: s.priorEpochs ?? s.epochs,
  }
}

/**
 * Epochs a run trains in all: a VQ-VAE trains its prior after its autoencoder, in the same run,
 * epochs [epochs, epochs + priorEpochs) being the prior's.
 */
export function totalEpochs(s: TrainSettings): number {
  return s.model === 'vqvae' ? s.epochs + vqSettings(s).priorEpochs : s.epochs
}

/** Zod's messages for the settings, in plain words that name the setting and its limit. */
export const settingsErrors = plainErrors(SETTING_LABELS)

/**
 * What is wrong with settings typed in the training panel, by setting, with the contract's own
 * schema and messages: the panel shows them as the person types, before anything is sent.
 */
export function settingsProblems(
  input: Partial<Record<keyof TrainSettings, unknown>>,
): Partial<Record<keyof TrainSettings, string>> {
  const parsed = trainSettings.partial().safeParse(input, { error: settingsErrors })
  const out: Partial<Record<keyof TrainSettings, string>> = {}
  for (const issue of parsed.error?.issues ?? []) {
    const key = issue.path[0] as keyof TrainSettings
    out[key] ??= issue.message
  }
  return out
}

export const PRESETS: Record<
  TrainSettings['preset'],
  Omit<TrainSettings, 'preset' | 'latentDim' | 'seed' | 'timeBudgetSeconds'>
> = {
  fast: {
    epochs: 10,
    batchSize: 64,
    baseFilters: 16,
    beta: 1,
    klWarmupEpochs: 2,
    freeBits: 0.05,
    reconstruction: 'bce',
    learningRate: 5e-3,
    lrSchedule: 'cosine',
    clipNorm: 100,
    batchNorm: false,
    validationSplit: 0.1,
    earlyStoppingPatience: 0,
    classBalanced: true,
    classLossWeight: 20,
    checkpointEvery: 5,
  },
  // Chosen on bench/quality (bench/README.md): a few-thousand-image dataset gets few optimiser
  // steps, so the default takes more, smaller steps at a higher rate than the usual 1e-3 / 128 (the
  // cosine schedule brings it down to 5% by the end; stable on 64 px RGB too), and a strong class
  // loss keeps the hardest classes (shirts against T-shirts and pullovers) on their label.
  balanced: {
    epochs: 40,
    batchSize: 64,
    baseFilters: 32,
    beta: 1,
    klWarmupEpochs: 5,
    freeBits: 0.05,
    reconstruction: 'bce',
    learningRate: 5e-3,
    lrSchedule: 'cosine',
    clipNorm: 100,
    batchNorm: false,
    validationSplit: 0.1,
    earlyStoppingPatience: 8,
    classBalanced: true,
    classLossWeight: 160,
    checkpointEvery: 5,
  },
  // The balanced recipe on a wider model for longer. The earlier quality preset (learning rate 1e-3,
  // batch norm, class loss 20, 80 epochs) put fewer samples in their class on bench/quality (94.4%,
  // shirts 81%) in 3.4 times this one's time; batch norm stays an option.
  quality: {
    epochs: 60,
    batchSize: 64,
    baseFilters: 48,
    beta: 1,
    klWarmupEpochs: 10,
    freeBits: 0.05,
    reconstruction: 'bce',
    learningRate: 5e-3,
    lrSchedule: 'cosine',
    clipNorm: 100,
    batchNorm: false,
    validationSplit: 0.1,
    earlyStoppingPatience: 12,
    classBalanced: true,
    classLossWeight: 160,
    checkpointEvery: 5,
  },
}

/** A latent size that suits the data: small images and few images need few dimensions. */
export function defaultLatent(size: number, channels: number, imageCount: number): number {
  const byPixels = size * size * channels <= 1024 ? 16 : size <= 64 ? 32 : 64
  return imageCount < 2000 ? Math.min(byPixels, 16) : byPixels
}

/**
 * The preset's learning rate for this image size: the presets' 5e-3 was tuned on 28 px
 * (bench/quality); above 32 px it falls as 32 / size (2.5e-3 at 64 px, 1.25e-3 at 128 px). At the
 * full rate, runs on a few hundred 96 or 128 px images blew up within a few epochs (the KL term
 * jumping a hundredfold) before recovering; at these rates they train smoothly (bench/README.md).
 */
export function defaultLearningRate(presetRate: number, size: number): number {
  return presetRate * Math.min(1, 32 / size)
}

/**
 * How long each preset trains, in optimiser steps and wall time rather than a fixed epoch count.
 * A run takes the preset's `epochs` over the data, but at least `minSteps` optimiser steps (a
 * dataset of a few hundred images has five steps an epoch: 40 epochs of it are 200 steps, too few
 * to learn from) and at most what fits in `maxSeconds` at the speed measured on this machine (40
 * epochs of 30,000 images would take most of an hour). The epoch counts are the ones chosen on
 * bench/quality's few-thousand-image sets, where they give 400 (fast) to 2,500 (quality) steps.
 * Balanced's 600 steps train the shipped sample (356 images) in about 45 s on 2 cores, which with
 * import and the calibrated class test fills its plan within the 2 minutes issue 18 asks for; its
 * 10 minutes let 10,000-image sets run their 40 epochs; fast is a quick look (90 s), quality may
 * take half an hour.
 */
export const BUDGETS: Record<
  TrainSettings['preset'],
  { epochs: number; minSteps: number; maxSeconds: number }
> = {
  fast: { epochs: PRESETS.fast.epochs, minSteps: 250, maxSeconds: 90 },
  balanced: { epochs: PRESETS.balanced.epochs, minSteps: 600, maxSeconds: 600 },
  quality: { epochs: PRESETS.quality.epochs, minSteps: 1500, maxSeconds: 1800 },
}

/** What the planner knows of a dataset; `imagesPerSecond` is the preset's measured speed here. */
export interface PlanData {
  size: number
  channels: number
  imageCount: number
  /** Training speed of this preset's model on this dataset's geometry; null: not measured. */
  imagesPerSecond?: number | null
}

/** Resolved settings with the numbers behind them, and the reasoning in plain sentences. */
export interface TrainingPlan {
  settings: TrainSettings
  /** Optimiser steps per epoch and over the run. */
  stepsPerEpoch: number
  steps: number
  /** Expected training seconds at the measured speed; null when the speed is unknown. */
  seconds: number | null
  /** True when the time budget, not the step target, set the epoch count. */
  capped: boolean
  reasons: string[]
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US')
const epochsOf = (n: number): string => `${count(n)} epoch${n === 1 ? '' : 's'}`

/** "90 s", "10 min", "1 h 30 min": budgets and estimates in the reasoning. */
export function formatBudget(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 90) return `${m} min`
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`
}

/** Images the trainer sees an epoch: the validation split holds out a share of classes of 5+. */
function trainImages(imageCount: number, validationSplit: number): number {
  return Math.max(1, imageCount - Math.round(imageCount * validationSplit))
}

/**
 * Seconds an epoch takes at a training speed: the steps, plus what follows each epoch (the
 * validation pass, the latent statistics over the data for the previews and best checkpoint,
 * and writing them), about a quarter of a training pass over every image plus a tenth of a second.
 */
export function secondsPerEpoch(
  imageCount: number,
  stepsPerEpoch: number,
  batchSize: number,
  imagesPerSecond: number,
): number {
  const ips = Math.max(1e-6, imagesPerSecond)
  return (stepsPerEpoch * batchSize) / ips + 0.1 + (0.25 * imageCount) / ips
}

/**
 * The model width a dataset can use: a few hundred images cannot fit the preset's width (and
 * a narrower model takes more steps in the same time); many colour images carry detail a wider one
 * can learn (up to 64: wider costs time the budget then takes from the epochs). Multiples of 4.
 */
export function defaultWidth(
  presetFilters: number,
  data: { channels: number; imageCount: number },
): { filters: number; why: string } {
  const round4 = (f: number): number => Math.max(4, Math.min(256, Math.round(f / 4) * 4))
  if (data.imageCount < 1000)
    return {
      filters: round4(presetFilters * 0.75),
      why: `fewer than 1,000 images fit a narrower model than the preset's ${presetFilters}`,
    }
  if (data.channels >= 3 && data.imageCount >= 5000)
    return {
      filters: Math.max(presetFilters, Math.min(64, round4(presetFilters * 1.5))),
      why: `${count(data.imageCount)} colour images carry detail for a wider model than the preset's ${presetFilters}`,
    }
  return { filters: presetFilters, why: `the preset's width for ${count(data.imageCount)} images` }
}

/**
 * Settings for a run on a dataset, with the epoch count planned from the preset's budget (unless
 * given) and the reasoning a person reads before starting. Pure: the CLI, the API and the training
 * panel plan alike.
 */
export function planTraining(
  input: Partial<TrainSettings> & { preset?: TrainSettings['preset'] },
  data: PlanData,
): TrainingPlan {
  const preset = input.preset ?? 'balanced'
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))
  const p = PRESETS[preset]
  const budget = BUDGETS[preset]
  const name = preset[0].toUpperCase() + preset.slice(1)
  const reasons: string[] = []
  const width = defaultWidth(p.baseFilters, data)
  // The schema checks what was typed first: a refused value never reaches the arithmetic below.
  const checked = trainSettings.partial().parse(given, { error: settingsErrors })
  const batchSize = checked.batchSize ?? p.batchSize
  const split = checked.validationSplit ?? p.validationSplit
  const train = trainImages(data.imageCount, split)
  const stepsPerEpoch = Math.max(1, Math.floor(train / batchSize))
  const ips = data.imagesPerSecond && data.imagesPerSecond > 0 ? data.imagesPerSecond : null
  const epochSeconds =
    ips === null ? null : secondsPerEpoch(data.imageCount, stepsPerEpoch, batchSize, ips)
  reasons.push(
    `${count(data.imageCount)} images (${count(train)} for training) in batches of ${batchSize}: ${count(stepsPerEpoch)} optimiser step${stepsPerEpoch === 1 ? '' : 's'} an epoch.`,
  )

  let epochs: number
  let capped = false
  let timeBudgetSeconds = checked.timeBudgetSeconds ?? 0
  if (checked.epochs !== undefined) {
    epochs = checked.epochs
    reasons.push(
      `${epochsOf(epochs)} as you set (${count(epochs * stepsPerEpoch)} steps)${timeBudgetSeconds ? `, stopped at ${formatBudget(timeBudgetSeconds)} if not done` : ', run in full'}.`,
    )
  } else {
    timeBudgetSeconds = checked.timeBudgetSeconds ?? budget.maxSeconds
    const wanted = Math.max(budget.epochs, Math.ceil(budget.minSteps / stepsPerEpoch))
    epochs = wanted
    // 90% of the budget: the estimate is a few steps' worth, and the trainer stops at the budget
    const fit =
      epochSeconds === null ? Infinity : Math.floor((0.9 * timeBudgetSeconds) / epochSeconds)
    if (fit < wanted) {
      epochs = Math.max(1, fit)
      capped = true
    }
    const target =
      wanted > budget.epochs
        ? `${name}'s ${budget.epochs} epochs would be ${count(budget.epochs * stepsPerEpoch)} steps, under its minimum of ${count(budget.minSteps)} steps: ${count(wanted)} epochs (${count(wanted * stepsPerEpoch)} steps)`
        : `${name}'s ${budget.epochs} epochs (${count(wanted * stepsPerEpoch)} steps, above its minimum of ${count(budget.minSteps)})`
    if (capped && fit < 1)
      reasons.push(
        `${target} would take about ${formatBudget(wanted * epochSeconds!)} here; one epoch alone (about ${formatBudget(epochSeconds!)}) is over its ${formatBudget(timeBudgetSeconds)} budget, so the run trains that one epoch.`,
      )
    else if (capped)
      reasons.push(
        `${target} would take about ${formatBudget(wanted * epochSeconds!)} here, over its ${formatBudget(timeBudgetSeconds)} budget: ${epochsOf(epochs)} (${count(epochs * stepsPerEpoch)} steps) instead.`,
      )
    else
      reasons.push(
        `${target}${epochSeconds === null ? '' : `, about ${formatBudget(epochs * epochSeconds)} at the ${count(ips!)} images/s measured here`}; it stops at ${formatBudget(timeBudgetSeconds)} if training runs slower.`,
      )
  }

  // Planned, warm-up and patience keep the share of the run they have on bench/quality's sets (an
  // eighth and a fifth of the preset's epochs): counted in epochs, a long run on few images would
  // finish its warm-up in a few dozen steps and stop early on the noise of a small validation
  // split. A person's epoch count keeps the preset's, as it always did.
  const share = checked.epochs === undefined ? epochs / budget.epochs : 1
  const klWarmupEpochs = Math.round(p.klWarmupEpochs * share * 10) / 10
  const earlyStoppingPatience =
    p.earlyStoppingPatience > 0
      ? Math.max(p.earlyStoppingPatience, Math.round(p.earlyStoppingPatience * share))
      : 0
  // Measured on the shipped sample (bench/README.md): 2 px shifts of the images the class loss's
  // classifier learns from and judges put 85.6% of accepted samples in their class against 80.5%
  // without (Shirt 59% against 39%). Not measured on larger sets, which need it less.
  const classAugmentShift = data.imageCount < 2000 ? 2 : 0
  const merged = {
    ...p,
    epochs,
    timeBudgetSeconds,
    classAugmentShift,
    baseFilters: width.filters,
    klWarmupEpochs,
    earlyStoppingPatience,
    learningRate: defaultLearningRate(p.learningRate, data.size),
    latentDim: defaultLatent(data.size, data.channels, data.imageCount),
    seed: 1,
    // a WAE run records its defaults, so a later change of them does not change it on resume
    ...(given.model === 'wae'
      ? { waeLambda: WAE_DEFAULTS.lambda, waeEncoder: WAE_DEFAULTS.encoder }
      : {}),
    ...given,
    preset,
  }
  const settings = trainSettings.parse(merged, { error: settingsErrors })
  if (given.baseFilters === undefined)
    reasons.push(`Base filters ${settings.baseFilters}: ${width.why}.`)
  if (given.latentDim === undefined)
    reasons.push(
      `Latent size ${settings.latentDim}: ${data.size} px ${data.channels === 1 ? 'gray' : 'colour'} images${data.imageCount < 2000 ? ', and fewer than 2,000 of them' : ''}.`,
    )
  if (given.learningRate === undefined && settings.learningRate !== p.learningRate)
    reasons.push(
      `Learning rate ${settings.learningRate}: the preset's ${p.learningRate} scaled by 32 / ${data.size} px, which keeps large images from diverging.`,
    )
  if (given.classAugmentShift === undefined && settings.classAugmentShift)
    reasons.push(
      `Class loss augmentation ${settings.classAugmentShift} px: with fewer than 2,000 images the classifier that keeps samples on their label learns from, and judges, shifted copies, so it does not learn the few images by heart.`,
    )
  if (modelFamily(settings) === 'wae')
    reasons.push(
      `Wasserstein auto-encoder: MMD weight ${settings.waeLambda ?? WAE_DEFAULTS.lambda}${given.waeLambda === undefined ? ' (the default)' : ''}, scaled by the image's values over a 28 px gray image's 784 so it weighs the same against the reconstruction at every size; ${settings.waeEncoder ?? WAE_DEFAULTS.encoder} encoder. Beta, KL warm-up and free bits do not apply.`,
    )
  const scaled: string[] = []
  if (given.klWarmupEpochs === undefined)
    scaled.push(`KL warm-up ${settings.klWarmupEpochs} epochs`)
  if (given.earlyStoppingPatience === undefined && settings.earlyStoppingPatience > 0)
    scaled.push(`early-stopping patience ${settings.earlyStoppingPatience} epochs`)
  if (scaled.length && share !== 1)
    reasons.push(
      `${scaled.join(' and ')}: the same share of the run as the preset's ${p.klWarmupEpochs}${p.earlyStoppingPatience ? ` and ${p.earlyStoppingPatience}` : ''} of ${budget.epochs}.`,
    )
  if (settings.model === 'vqvae') {
    const v = vqSettings(settings)
    reasons.push(
      `VQ-VAE: a codebook of ${v.codebookSize} codes of size ${v.codeDim} in stage 1, then ${epochsOf(v.priorEpochs)} of its prior over the codes (stage 2${given.priorEpochs === undefined ? ', as many as stage 1' : ''}); early stopping or the budget end stage 1, never the prior's first epoch.`,
    )
  }
  const steps = settings.epochs * stepsPerEpoch
  return {
    settings,
    stepsPerEpoch,
    steps,
    seconds: epochSeconds === null ? null : settings.epochs * epochSeconds,
    capped,
    reasons,
  }
}

/** The settings a run gets: the preset's, planned for the dataset, with what was given on top. */
export function resolveSettings(
  input: Partial<TrainSettings> & { preset?: TrainSettings['preset'] },
  data: PlanData,
): TrainSettings {
  return planTraining(input, data).settings
}
