import type { BackendInfo, BackendName } from './backend'
import type { EpochMetrics } from './runs'
import type { RunForecast } from './forecast'
import type { TrainSettings } from './train-settings'
import type {
  AugmentTransform,
  ClassCalibration,
  FilterReason,
  FilterSettings,
  SampleSource,
} from './generation'
import type { ArmName, ArmResult } from './evaluation'
import type { GenerationRate } from './generation-eta'

/** One generated sample as the generation process reports it (main stores it). */
export interface GeneratedRow {
  classIndex: number
  seed: number
  latent: number[]
  /** Relative to the generation's folder. */
  file: string
  confidence: number
  novelty: number
  nearestDistance: number
  nearestImageId: number | null
  duplicateOfSeed: number | null
  reason: FilterReason | null
  /** 'cvae' when absent. */
  source?: SampleSource
  /** An augmented sample's real image (its id) and the transform that made it. */
  sourceImageId?: number | null
  transform?: AugmentTransform | null
}

export interface GenerateJob {
  mode: 'generate'
  generationId: number
  dbPath: string
  home: string
  datasetId: number
  checkpointDir: string
  outDir: string
  /** Accepted samples still wanted, per class index. */
  need: { classIndex: number; count: number }[]
  temperature: number
  filters: FilterSettings
  /** The first seed to use; every sample takes the next one. */
  seedStart: number
  /**
   * Accepted samples already in the generation, and in the generation it is a remedy for
   * (duplicate checks cover them); `file` relative to outDir, or absolute.
   */
  existing: { classIndex: number; seed: number; file: string }[]
  backend: BackendName | 'auto'
  /** Classes made by classic augmentation of their real images, and whether each may be mirrored. */
  augment?: { classIndex: number; flip: boolean }[]
}

/** What a training process is asked to do. It reads the database but never writes it. */
export type TrainJob =
  | {
      mode: 'train'
      runId: number
      dbPath: string
      home: string
      datasetId: number
      settings: TrainSettings
      runDir: string
      resumeFrom: string | null
      backend: BackendName | 'auto'
      /** Train without the dataset's evaluation split (false for runs from before it). */
      excludeHeldOut: boolean
    }
  | {
      mode: 'sample'
      checkpointDir: string
      classIndex: number
      n: number
      temperature: number
      seed: number
      outDir: string
      backend: BackendName | 'auto'
    }
  | GenerateJob
  | EvaluateJob
  | { mode: 'export-generator'; checkpointDir: string; out: string; backend: BackendName | 'auto' }
  | { mode: 'doctor'; backend: BackendName | 'auto' }
  | {
      mode: 'estimate'
      backend: BackendName | 'auto'
      size: number
      channels: number
      classes: number
      imageCount: number
    }

/** The downstream check of a generation (src/core/evaluate). */
export interface EvaluateJob {
  mode: 'evaluate'
  evaluationId: number
  dbPath: string
  home: string
  datasetId: number
  /** The generation's class names, in its class-index order. */
  classNames: string[]
  /** The generation's accepted samples: PNG files under samplesDir. */
  samplesDir: string
  samples: { classIndex: number; file: string }[]
  seeds: number
  epochs: number | null
  backend: BackendName | 'auto'
}

export type ToTrainer = { type: 'start'; job: TrainJob } | { type: 'cancel' }

export type FromTrainer =
  | { type: 'started'; backend: BackendInfo; trainImages: number; valImages: number; epoch: number }
  | {
      type: 'progress'
      epoch: number
      batch: number
      batches: number
      loss: number
      imagesPerSecond: number
      /** A VQ-VAE run's stage: its autoencoder, or the prior over its codes. */
      stage?: 'vq' | 'prior'
    }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'preview'; epoch: number }
  | {
      type: 'checkpoint'
      kind: 'last' | 'best'
      epoch: number
      dir: string
      bestValLoss: number | null
    }
  /** The finished run's per-class forecast (shared/forecast.ts), just before `done`. */
  | { type: 'forecast'; forecast: RunForecast }
  | {
      type: 'done'
      outcome: 'completed' | 'early-stopped' | 'cancelled' | 'time-budget'
      epochs: number
    }
  | { type: 'sampled'; files: string[]; latents: number[][] }
  | { type: 'doctor'; backend: BackendInfo }
  | { type: 'generator-exported'; files: string[] }
  | {
      type: 'gen-started'
      backend: BackendInfo
      classifierAccuracy: number | null
      calibration: ClassCalibration[] | null
    }
  | { type: 'gen-samples'; rows: GeneratedRow[] }
  | {
      type: 'gen-progress'
      phase: 'preparing' | 'generating'
      accepted: number
      target: number
      generated: number
      filtered: number
      samplesPerSecond: number
      className: string
      /** Tried and accepted counts, rates, ETA and forecast (see generation-eta.ts). */
      rate: GenerationRate
    }
  | {
      type: 'gen-done'
      outcome: 'completed' | 'cancelled'
      /** Classes that could not reach their count within the attempt limit, with how many are missing. */
      shortfall: { classIndex: number; missing: number; tried: number }[]
    }
  | {
      type: 'estimate'
      backend: BackendInfo
      imagesPerSecond: Record<'fast' | 'balanced' | 'quality', number>
    }
  | {
      type: 'eval-started'
      backend: BackendInfo
      heldOut: { class: string; count: number }[]
      syntheticImages: number
    }
  | { type: 'eval-progress'; done: number; of: number; arm: ArmName; arms: ArmResult[] }
  | { type: 'eval-done'; outcome: 'completed' | 'cancelled'; arms: ArmResult[] }
  | { type: 'error'; error: { name: string; message: string; stack?: string }; diverged: boolean }
