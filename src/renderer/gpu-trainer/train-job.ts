import type { GpuAdapterReport, GpuPort, WebGlReport } from '../../shared/gpu'
import type { FromTrainer } from '../../shared/ml-protocol'
import { applyCheckpointState, checkpointState } from '../../core/training/checkpoint-state'
import type { FromPage, ToPage } from '../../core/training/page-protocol'
import { previewImages } from '../../core/training/preview-images'
import { runLoop } from '../../core/training/run-loop'
import { DivergedError, Trainer } from '../../core/training/trainer'
import { VqTrainer } from '../../core/training/vq-trainer'

/** What the page needs from its surroundings: a browser's WebGPU, or tfjs's cpu under Node. */
export interface PageEnv {
  /** Switches tfjs to the backend asked for. */
  prepare(backend: 'webgpu' | 'webgl'): Promise<void>
  probe(): Promise<{ webgpu: GpuAdapterReport; webgl: WebGlReport }>
  /**
   * Resolves if the backend's GPU device is lost (GPUDevice.lost); never where it cannot be
   * (WebGL, tfjs's cpu backend). Asked after `prepare`.
   */
  deviceLost(): Promise<{ reason: string; message: string }>
}

/**
 * The page's side of a GPU run: answers a probe, then trains the one run main sends, with the
 * same loop as the ML process (src/core/training/run-loop.ts), sending checkpoints and preview
 * pixels for main to write. One run per page: main opens a fresh page for the next.
 */
export function serveTrainer(port: GpuPort, env: PageEnv): void {
  const post = (m: FromPage, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer)
  let stop = false
  let running = false
  port.onMessage((raw) => {
    const m = raw as ToPage
    if (m.type === 'cancel') stop = true
    else if (m.type === 'probe')
      void env.probe().then(
        (r) => post({ type: 'probe', ...r }),
        (err: unknown) => post(errorMessage(err)),
      )
    else if (m.type === 'train' && !running) {
      running = true
      train(m).catch((err: unknown) => post(errorMessage(err)))
    }
  })

  async function train(job: Extract<ToPage, { type: 'train' }>): Promise<void> {
    await env.prepare(job.backend)
    let lost = false
    void env.deviceLost().then((info) => {
      lost = true
      stop = true
      post({ type: 'device-lost', ...info })
    })
    const d = job.data
    const data = { ...d, count: d.labels.length }
    const trainer =
      job.settings.model === 'vqvae'
        ? new VqTrainer(data, job.settings)
        : new Trainer(data, job.settings)
    try {
      let best: number | null = null
      if (job.resume) best = (await applyCheckpointState(trainer, job.resume)).bestValLoss
      post({
        type: 'started',
        trainImages: trainer.split.train.length,
        valImages: trainer.split.val.length,
        epoch: trainer.epoch,
      })
      await runLoop(trainer, best, {
        send: (message: FromTrainer) => {
          // nothing the device computes after its loss is worth reporting (a cancel's `done` least)
          if (lost) return
          if (message.type === 'progress' || message.type === 'epoch' || message.type === 'done')
            post({ type: 'trainer', message })
        },
        save: async (kind, bestValLoss, quick) => {
          if (lost) return
          const state = await checkpointState(trainer, bestValLoss, quick)
          if (!lost)
            post({ type: 'checkpoint', kind, state }, [state.weights.buffer as ArrayBuffer])
        },
        previews: async (seed) => {
          if (lost) return
          const images = previewImages(trainer, seed)
          const transfer = [images.recon.pixels.buffer as ArrayBuffer]
          if (images.samples) transfer.push(images.samples.pixels.buffer as ArrayBuffer)
          post({ type: 'preview', epoch: trainer.epoch, images }, transfer)
        },
        // main makes the forecast from the written checkpoint (it needs the feature extractor)
        forecast: async () => undefined,
        stopped: () => stop,
        lastEvery: job.lastEvery,
      })
    } finally {
      trainer.dispose()
    }
  }
}

function errorMessage(err: unknown): FromPage {
  const e = err instanceof Error ? err : new Error(String(err))
  return {
    type: 'error',
    error: { name: e.name, message: e.message, stack: e.stack },
    diverged: err instanceof DivergedError,
  }
}
