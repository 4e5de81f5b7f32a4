import type { GpuAdapterReport, WebGlReport } from '../../shared/gpu'
import type { FromTrainer } from '../../shared/ml-protocol'
import type { TrainSettings } from '../../shared/train-settings'
import type { CheckpointState } from './checkpoint-state'
import type { PreviewImages } from './preview-images'

/*
 * The messages between a GPU run's host in main (src/core/jobs/gpu-host.ts) and the trainer page
 * (src/renderer/gpu-trainer/train-job.ts). The database and the files stay in main: it sends the
 * images and a resumed run's state; the page sends back metrics, checkpoint states and preview
 * pixels, which main writes as the ML process would.
 */
import type { TrainingData } from './data'

/** A dataset's images for the page (its count is the labels' length): the buffers move (transfer). */
export type PageTrainingData = Omit<TrainingData, 'count'>

export type ToPage =
  | { type: 'probe' }
  | {
      type: 'train'
      backend: 'webgpu' | 'webgl'
      settings: TrainSettings
      data: PageTrainingData
      /** A resumed run's checkpoint (null: a fresh run). */
      resume: CheckpointState | null
      /** How often `last` is written at the latest, ms. */
      lastEvery: number
    }
  | { type: 'cancel' }

export type FromPage =
  | { type: 'probe'; webgpu: GpuAdapterReport; webgl: WebGlReport }
  | { type: 'started'; trainImages: number; valImages: number; epoch: number }
  /** Progress, epoch metrics and `done`, as the ML process sends them. */
  | { type: 'trainer'; message: Extract<FromTrainer, { type: 'progress' | 'epoch' | 'done' }> }
  | { type: 'checkpoint'; kind: 'last' | 'best'; state: CheckpointState }
  | { type: 'preview'; epoch: number; images: PreviewImages }
  /** GPUDevice.lost resolved: nothing on the device is usable any more. */
  | { type: 'device-lost'; reason: string; message: string }
  | { type: 'error'; error: { name: string; message: string; stack?: string }; diverged: boolean }
