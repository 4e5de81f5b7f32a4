import { z } from 'zod'
import { plainErrors } from './issues'

/**
 * Every training setting, with its limits. Presets fill in defaults; anything can be overridden.
 * The schema is shared by the CLI, the API and the training process, so a bad value is refused
 * with the same message everywhere.
 */
export const trainSettings = z.strictObject({
  preset: z.enum(['fast', 'balanced', 'quality']).default('balanced'),
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
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  checkpointEvery: z.number().int().min(1).max(10_000),
})
export type TrainSettings = z.output<typeof trainSettings>

/** What each setting is called wherever a person reads it: the training panel, the comparison. */
export const SETTING_LABELS: Record<keyof TrainSettings, string> = {
  preset: 'Preset',
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
  seed: 'Seed',
  checkpointEvery: 'Checkpoint every (epochs)',
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
  Omit<TrainSettings, 'preset' | 'latentDim' | 'seed'>
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

export function resolveSettings(
  input: Partial<TrainSettings> & { preset?: TrainSettings['preset'] },
  data: { size: number; channels: number; imageCount: number },
): TrainSettings {
  const preset = input.preset ?? 'balanced'
  const merged = {
    ...PRESETS[preset],
    learningRate: defaultLearningRate(PRESETS[preset].learningRate, data.size),
    latentDim: defaultLatent(data.size, data.channels, data.imageCount),
    seed: 1,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    preset,
  }
  return trainSettings.parse(merged, { error: settingsErrors })
}
