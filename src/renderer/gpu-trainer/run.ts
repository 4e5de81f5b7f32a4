import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from '../../core/training/trainer'
import { VqTrainer } from '../../core/training/vq-trainer'
import type { TrainingData } from '../../core/training/data'
import { resolveSettings, type ModelFamily, type TrainSettings } from '../../shared/train-settings'
import type { BrowserBackendName, GpuPageImages, PageRunResult } from '../../shared/gpu'
import { useBackend } from './backends'
import { generatedPixels } from './check'

export function toTrainingData(d: GpuPageImages): TrainingData {
  return {
    size: d.size,
    channels: d.channels,
    classNames: d.classNames,
    pixels: Uint8Array.from(d.pixels),
    labels: Int32Array.from(d.labels),
    ids: Int32Array.from(d.labels, (_, i) => i + 1),
    count: d.labels.length,
  }
}

/**
 * A whole run of `family` on `backend`: every epoch as the ML process trains them (the same
 * Trainer), then a few generated images. Settings are the fast preset, shrunk by `overrides`.
 */
export async function runOnPage(
  images: GpuPageImages,
  backend: BrowserBackendName,
  family: ModelFamily,
  overrides: Partial<TrainSettings>,
): Promise<PageRunResult> {
  await useBackend(backend)
  const data = toTrainingData(images)
  const s = resolveSettings(
    { preset: 'fast', model: family, ...overrides },
    { size: data.size, channels: data.channels, imageCount: data.count },
  )
  const t = family === 'vqvae' ? new VqTrainer(data, s) : new Trainer(data, s)
  const began = performance.now()
  try {
    const losses: number[] = []
    const epochImagesPerSecond: number[] = []
    let images = 0
    let seconds = 0
    const epochs = t instanceof VqTrainer ? t.totalEpochs : s.epochs
    for (let e = 0; e < epochs; e++) {
      const m = await t.trainEpoch(
        () => {},
        () => false,
      )
      if (!m) throw new Error(`epoch ${e + 1} stopped early`)
      losses.push(m.loss)
      epochImagesPerSecond.push(m.imagesPerSecond)
      images += m.imagesPerSecond * m.seconds
      seconds += m.seconds
    }
    const px = generatedPixels(t)
    const { mean, variance } = tf.tidy(() => {
      const mv = tf.moments(tf.tensor1d(px))
      return { mean: mv.mean.dataSync()[0], variance: mv.variance.dataSync()[0] }
    })
    return {
      backend: tf.getBackend() as BrowserBackendName,
      family,
      epochs,
      losses,
      imagesPerSecond: seconds > 0 ? images / seconds : 0,
      epochImagesPerSecond,
      seconds: (performance.now() - began) / 1000,
      generatedMean: mean,
      generatedStd: Math.sqrt(variance),
    }
  } finally {
    t.dispose()
  }
}
