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
import type {
  DimensionRanking,
  InterpolationPath,
  InterpolationResult,
  LatentDimension,
  MapFeatures,
  MapMethod,
  StudioImage,
  CodeRegion,
  CodeGridResult,
  ResampleResult,
} from './studio'

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
  /** The forecast of a run trained in the GPU window, from its written checkpoints. */
  | {
      mode: 'forecast'
      dbPath: string
      home: string
      datasetId: number
      settings: TrainSettings
      runDir: string
      excludeHeldOut: boolean
      backend: BackendName | 'auto'
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
  | AuditJob
  | { mode: 'export-generator'; checkpointDir: string; out: string; backend: BackendName | 'auto' }
  | { mode: 'doctor'; backend: BackendName | 'auto' }
  | StudioJob
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

/**
 * A long-lived studio session on one checkpoint: the process stays up answering requests (a map,
 * decodes for the sliders) until it is told to close, so a slider's decode costs milliseconds
 * instead of a process start.
 */
export interface StudioJob {
  mode: 'studio'
  checkpointDir: string
  dbPath: string
  home: string
  datasetId: number
  backend: BackendName | 'auto'
}

/** An end of an interpolation: a real image (through its latent mean) or a class (its prior mean). */
export type StudioEndpoint = { imageId: number } | { classIndex: number }

/** What a region resampling starts from: a real image's code grid, or a prior sample (class, seed). */
export type CodeSource = { imageId: number } | { classIndex: number; seed: number }

export type StudioRequest =
  | {
      kind: 'map'
      method: MapMethod
      features: MapFeatures
      seed: number
      /** A generation's accepted samples to place on the map (PNG files under dir). */
      synthetic: { dir: string; samples: { id: number; classIndex: number; file: string }[] } | null
    }
  | {
      kind: 'interpolate'
      from: StudioEndpoint
      to: StudioEndpoint
      steps: number
      path: InterpolationPath
      outDir: string | null
    }
  | { kind: 'dimensions'; classIndex: number; by: DimensionRanking; count: number }
  | { kind: 'decode'; classIndex: number; latents: number[][] }
  | { kind: 'codes'; source: CodeSource }
  | {
      kind: 'resample'
      source: CodeSource
      region: CodeRegion
      temperature: number
      seeds: number[]
    }
  | {
      kind: 'traverse'
      classIndex: number
      base: number[]
      dims: { index: number; mean: number; sd: number }[]
      values: number[]
    }

export interface StudioReplies {
  map: {
    real: { ids: number[]; classIndex: number[]; x: number[]; y: number[] }
    synthetic: { ids: number[]; classIndex: number[]; x: number[]; y: number[] } | null
  }
  interpolate: InterpolationResult
  dimensions: { dims: LatentDimension[]; base: number[]; images: number }
  decode: { images: StudioImage[] }
  traverse: { rows: StudioImage[][] }
  codes: CodeGridResult
  resample: ResampleResult
}

export type ToTrainer =
  | { type: 'start'; job: TrainJob }
  | { type: 'cancel' }
  | { type: 'studio'; id: number; request: StudioRequest }
  | { type: 'studio-cancel'; id: number }
  | { type: 'studio-close' }
/** An audit of a run's dataset (src/core/audit): outliers and likely label errors. */
export interface AuditJob {
  mode: 'audit'
  auditId: number
  dbPath: string
  home: string
  datasetId: number
  checkpointDir: string
  /** Which scores to report (src/core/audit/scores.ts); the measured default when absent. */
  method?: {
    probabilities: 'cvae' | 'knn' | 'mean' | 'product'
    cvaeWeight: number
    neighbours: number
    candidates: number
    calibrated: boolean
    anomaly: 'own' | 'best' | 'class-z' | 'combined'
  }
  backend: BackendName | 'auto'
}

/** One image's audit as the ML process reports it (main stores it). */
export interface AuditRow {
  imageId: number
  /** Its class at audit time, in the run's class order (-1: a class the run does not know). */
  labelIndex: number
  reconstructionError: number
  anomalyScore: number
  suggestedIndex: number
  /** Combined probability of each of the run's classes. */
  probs: number[]
  /** Negative ELBO under each of the run's classes (null: not computed, see candidateClasses). */
  nll: (number | null)[]
  latent: number[]
  /** Nearest images (ids) of the suggested class. */
  nearest: number[]
}

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
  | { type: 'studio-ready'; backend: BackendInfo; latentDim: number }
  | {
      type: 'studio-progress'
      id: number
      phase: 'encoding' | 'projecting' | 'placing'
      done: number
      total: number
    }
  | { type: 'studio-reply'; id: number; value: StudioReplies[keyof StudioReplies] }
  | { type: 'studio-error'; id: number; error: { message: string; cancelled: boolean } }
  | { type: 'audit-started'; backend: BackendInfo; images: number; classNames: string[] }
  | { type: 'audit-progress'; phase: 'scoring' | 'neighbours'; done: number; of: number }
  | { type: 'audit-rows'; rows: AuditRow[] }
  | { type: 'audit-done'; outcome: 'completed' | 'cancelled'; method: string }
  | { type: 'error'; error: { name: string; message: string; stack?: string }; diverged: boolean }
