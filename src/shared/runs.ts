import type { TrainSettings } from './train-settings'
import type { RunForecast } from './forecast'

export type RunStatus =
  'running' | 'completed' | 'cancelled' | 'failed' | 'diverged' | 'interrupted'

export interface EpochMetrics {
  epoch: number
  loss: number
  reconstruction: number
  kl: number
  valLoss: number | null
  valReconstruction: number | null
  valKl: number | null
  activeUnits: number
  learningRate: number
  imagesPerSecond: number
  seconds: number
  /**
   * VQ-VAE runs only (absent otherwise): which stage the epoch trained, the autoencoder ('vq') or
   * the prior over its codes ('prior'). In a VQ-VAE epoch `kl` is the commitment loss and
   * `activeUnits` the codes in use; in a prior epoch `loss` and `valLoss` are the prior's negative
   * log-likelihood (nats per code) and the autoencoder's figures are those it ended stage 1 with.
   */
  stage?: 'vq' | 'prior'
  /** Codebook perplexity (exp of the entropy of code usage) on the validation images. */
  perplexity?: number
  /** Codes chosen at least once on the validation images. */
  usedCodes?: number
  /** Codes restarted in the epoch (dead-code restarts). */
  restartedCodes?: number
}

export interface RunSummary {
  id: number
  datasetId: number
  status: RunStatus
  settings: TrainSettings
  classNames: string[]
  backend: string | null
  device: string | null
  backendNotes: string[]
  error: string | null
  epochsDone: number
  bestValLoss: number | null
  trainImages: number | null
  valImages: number | null
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
  /** Checkpoints that exist: the last one (to resume) and the best by validation loss. */
  checkpoints: { kind: 'last' | 'best'; epoch: number }[]
  lastMetrics: EpochMetrics | null
  /** Trained without the dataset's evaluation split (false: a run from before the split). */
  heldOutExcluded: boolean
  /**
   * What a default generation is likely to give per class, measured when the run finished
   * (shared/forecast.ts); null or absent: not measured (running, cancelled, or an older run).
   */
  forecast?: RunForecast | null
  /** The dataset's overrides when the run started; null for runs from before overrides. */
  overrides?: RunOverrides | null
}

/** How many images a run's dataset had relabelled and excluded when it started training. */
export interface RunOverrides {
  relabelled: number
  excluded: number
  /** When the latest of them was made (ms), null without any. */
  changedAt: number | null
}

export interface RunProgress {
  runId: number
  epoch: number
  epochs: number
  batch: number
  batches: number
  loss: number
  imagesPerSecond: number
  etaSeconds: number | null
  /** A VQ-VAE run's stage (absent for one-stage models); epochs counts both stages. */
  stage?: 'vq' | 'prior'
}

export type RunEvent =
  | { type: 'progress'; progress: RunProgress }
  | { type: 'epoch'; runId: number; metrics: EpochMetrics }
  /** New sample and reconstruction pictures were written for this epoch. */
  | { type: 'preview'; runId: number; epoch: number }
  | { type: 'status'; run: RunSummary }

export interface DoctorReport {
  backend: string
  device: string
  threads: number
  simd: boolean
  notes: string[]
  node: string
  platform: string
}
