// The model bench/train times (tfjs-cvae.ts) and profiles (profile.ts): Synthfold's default conv
// CVAE (balanced preset, at its batch size) on random images, on the best backend this machine
// loads. SIZE and CHANNELS (default 28 and 1) pick the images; colour trains with the Gaussian
// likelihood unless RECONSTRUCTION says otherwise; BATCH overrides the preset's batch size.
import { initBackend } from '../../src/core/accel/backend'
import type { WasmBackendLike } from '../../src/core/accel/heap'
import { simdPath } from '../../src/core/accel/simd-module'
import { Trainer } from '../../src/core/training/trainer'
import { PRESETS, resolveSettings, type TrainSettings } from '../../src/shared/train-settings'
import type { BackendInfo } from '../../src/shared/backend'
import * as tf from '@tensorflow/tfjs-core'

/** V8 compiles the step's JavaScript in tiers over the first ~20 batches; PyTorch gets the same. */
export const WARMUP = 20

export interface BenchModel {
  trainer: Trainer
  settings: TrainSettings
  info: BackendInfo
  batchSize: number
  /** The SIMD build Synthfold's kernels run (null when they do not run). */
  simdPath: 'relaxed' | 'plain' | null
}

/** A trainer over enough random images for `WARMUP + steps` batches. */
export async function benchModel(steps: number): Promise<BenchModel> {
  const info = await initBackend((process.env.SYNTHFOLD_BACKEND as 'wasm') ?? 'auto')
  const B = Number(process.env.BATCH) || PRESETS.balanced.batchSize
  const n = B * (steps + WARMUP)
  const size = Number(process.env.SIZE) || 28
  const channels = Number(process.env.CHANNELS) || 1
  const data = {
    size,
    channels,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    pixels: Uint8Array.from({ length: n * size * size * channels }, () =>
      Math.floor(Math.random() * 256),
    ),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    ids: Int32Array.from({ length: n }, (_, i) => i + 1),
    count: n,
  }
  const settings = resolveSettings(
    {
      preset: 'balanced',
      batchSize: B,
      validationSplit: 0,
      classBalanced: false,
      // The CVAE itself, as in the PyTorch reference; default runs add the auxiliary classifier.
      classLossWeight: Number(process.env.CLASS_LOSS_WEIGHT ?? 0),
      epochs: 1,
      reconstruction: (process.env.RECONSTRUCTION ?? (channels >= 3 ? 'gaussian' : 'bce')) as 'bce',
    },
    { size, channels, imageCount: 20_000 },
  )
  return {
    trainer: new Trainer(data, settings),
    settings,
    info,
    batchSize: B,
    simdPath: info.backend === 'wasm' ? simdPath(tf.backend() as unknown as WasmBackendLike) : null,
  }
}
