import * as tf from '@tensorflow/tfjs-core'
import { batchArrays } from './data'
import { latentSample } from '../models/cvae/latent-prior'
import { oneHot } from '../models/cvae/model'
import type { Trainer } from './trainer'
import { VqTrainer } from './vq-trainer'

/*
 * The run page's two pictures as pixels (browser-safe: the GPU trainer page makes them and main
 * writes the PNGs, preview.ts).
 */

const PER_CLASS = 8
const MAX_CLASSES = 20

/** One picture: images tiled in a grid, size x size x channels each, on a dark gap. */
export interface PreviewGrid {
  width: number
  height: number
  channels: number
  pixels: Uint8Array
}

export interface PreviewImages {
  /** A row of samples per class; null where there is nothing to sample from yet (a VQ-VAE's prior). */
  samples: PreviewGrid | null
  /** Originals above their reconstructions. */
  recon: PreviewGrid
}

/**
 * The samples (a row per class, drawn from that class's fitted latent distribution) and the
 * originals above their reconstructions, after an epoch.
 */
export function previewImages(trainer: Trainer | VqTrainer, seed: number): PreviewImages {
  if (trainer instanceof VqTrainer) return vqPreviewImages(trainer, seed)
  const { size, channels } = trainer.data
  const classes = Math.min(trainer.classes, MAX_CLASSES)
  const stats = trainer.latentStats(1024)
  const d = trainer.settings.latentDim
  const z = new Float32Array(classes * PER_CLASS * d)
  const labels: number[] = []
  const eps = tf.tidy(
    () =>
      tf.randomNormal([classes * PER_CLASS, d], 0, 1, 'float32', seed).dataSync() as Float32Array,
  )
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < PER_CLASS; j++) {
      const row = c * PER_CLASS + j
      labels.push(c)
      latentSample(
        stats,
        c,
        eps.subarray(row * d, (row + 1) * d),
        1,
        z.subarray(row * d, (row + 1) * d),
      )
    }
  }
  const samples = tile(decode(trainer, z, labels), PER_CLASS, size, channels)

  const picks = trainer.split.val.length ? trainer.split.val : trainer.split.train
  const idx = picks.slice(0, PER_CLASS)
  const { x, y } = batchArrays(trainer.data, idx, trainer.classes)
  const rec = tf.tidy(() => {
    const xt = tf.tensor4d(x, [idx.length, size, size, channels])
    const yt = tf.tensor2d(y, [idx.length, trainer.classes])
    const [mu] = trainer.model.encoder.apply([xt, yt]) as tf.Tensor[]
    const logits = trainer.model.decoder.apply([mu, yt]) as tf.Tensor
    return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32').dataSync() as Int32Array
  })
  const record = size * size * channels
  const originals = idx.map((i) => trainer.data.pixels.subarray(i * record, (i + 1) * record))
  const recons = idx.map((_, j) => Uint8Array.from(rec.subarray(j * record, (j + 1) * record)))
  return { samples, recon: tile([...originals, ...recons], idx.length, size, channels) }
}

/**
 * A VQ-VAE's pictures: reconstructions through the codes from the first epoch on, and samples
 * from the prior (at temperature 1) once it has trained an epoch: before that there is nothing
 * to sample from, and a stand-in would show nonsense.
 */
function vqPreviewImages(trainer: VqTrainer, seed: number): PreviewImages {
  const { size, channels } = trainer.data
  let samples: PreviewGrid | null = null
  if (trainer.priorEpochsDone > 0) {
    const classes = Math.min(trainer.classes, MAX_CLASSES)
    const labels = Array.from({ length: classes * PER_CLASS }, (_, i) => Math.floor(i / PER_CLASS))
    const seeds = labels.map((_, i) => seed * 1000 + i)
    const drawn = trainer.prior.sampleGrids(labels, seeds, 1)
    const cells = trainer.model.shape.grid ** 2
    const grids = new Int32Array(labels.length * cells)
    drawn.forEach((g, i) => grids.set(g, i * cells))
    samples = tile(trainer.decodeCodes(grids, labels), PER_CLASS, size, channels)
  }
  const picks = trainer.split.val.length ? trainer.split.val : trainer.split.train
  const idx = picks.slice(0, PER_CLASS)
  const record = size * size * channels
  const originals = idx.map((i) => trainer.data.pixels.subarray(i * record, (i + 1) * record))
  return {
    samples,
    recon: tile([...originals, ...trainer.reconstruct(idx)], idx.length, size, channels),
  }
}

function decode(trainer: Trainer, z: Float32Array, labels: number[]): Uint8Array[] {
  const n = labels.length
  const d = trainer.settings.latentDim
  const record = trainer.data.size * trainer.data.size * trainer.data.channels
  const px = tf.tidy(() => {
    const y = oneHot(labels, trainer.classes)
    const logits = trainer.model.decoder.apply([tf.tensor2d(z, [n, d]), y]) as tf.Tensor
    return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32').dataSync() as Int32Array
  })
  return labels.map((_, i) => Uint8Array.from(px.subarray(i * record, (i + 1) * record)))
}

/** Tiles images (size x size x channels) into one grid. */
function tile(images: Uint8Array[], cols: number, size: number, channels: number): PreviewGrid {
  const rows = Math.ceil(images.length / cols)
  const gap = 2
  const W = cols * (size + gap) - gap
  const H = rows * (size + gap) - gap
  const out = new Uint8Array(W * H * channels).fill(24)
  images.forEach((img, i) => {
    const ox = (i % cols) * (size + gap)
    const oy = Math.floor(i / cols) * (size + gap)
    for (let y = 0; y < size; y++) {
      const src = img.subarray(y * size * channels, (y + 1) * size * channels)
      out.set(src, ((oy + y) * W + ox) * channels)
    }
  })
  return { width: W, height: H, channels, pixels: out }
}
