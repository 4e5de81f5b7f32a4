import type { BackendInfo, BackendName } from '../ml/backend'
import type { EpochMetrics } from '../../../shared/runs'
import type { TrainSettings } from '../../../shared/train-settings'

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
  | { mode: 'doctor'; backend: BackendName | 'auto' }
  | {
      mode: 'estimate'
      backend: BackendName | 'auto'
      size: number
      channels: number
      classes: number
      imageCount: number
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
  | { type: 'done'; outcome: 'completed' | 'early-stopped' | 'cancelled'; epochs: number }
  | { type: 'sampled'; files: string[]; latents: number[][] }
  | { type: 'doctor'; backend: BackendInfo }
  | {
      type: 'estimate'
      backend: BackendInfo
      imagesPerSecond: Record<'fast' | 'balanced' | 'quality', number>
    }
  | { type: 'error'; error: { name: string; message: string; stack?: string }; diverged: boolean }
