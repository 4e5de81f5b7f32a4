import * as tf from '@tensorflow/tfjs-core'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { batchArrays } from './data'
import { latentSample } from '../models/cvae/latent-prior'
import { oneHot } from '../models/cvae/model'
import type { Trainer } from './trainer'
import { VqTrainer } from './vq-trainer'

const PER_CLASS = 8
const MAX_CLASSES = 20

/**
 * Writes the run page's two pictures after an epoch: a grid of samples (a row per class, drawn
 * from that class's fitted latent distribution) and originals above their reconstructions.
 */
export async function writePreviews(
  trainer: Trainer | VqTrainer,
  dir: string,
  seed: number,
): Promise<void> {
  if (trainer instanceof VqTrainer) return writeVqPreviews(trainer, dir, seed)
  mkdirSync(dir, { recursive: true })
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
  const samples = decode(trainer, z, labels)
  await writeGrid(join(dir, 'preview-samples.png'), samples, PER_CLASS, size, channels)

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
  await writeGrid(
    join(dir, 'preview-recon.png'),
    [...originals, ...recons],
    idx.length,
    size,
    channels,
  )
}

/**
 * A VQ-VAE's pictures: reconstructions through the codes from the first epoch on, and samples
 * from the prior (at temperature 1) once it has trained an epoch: before that there is nothing
 * to sample from, and a stand-in would show nonsense.
 */
async function writeVqPreviews(trainer: VqTrainer, dir: string, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const { size, channels } = trainer.data
  if (trainer.priorEpochsDone > 0) {
    const classes = Math.min(trainer.classes, MAX_CLASSES)
    const labels = Array.from({ length: classes * PER_CLASS }, (_, i) => Math.floor(i / PER_CLASS))
    const seeds = labels.map((_, i) => seed * 1000 + i)
    const drawn = trainer.prior.sampleGrids(labels, seeds, 1)
    const cells = trainer.model.shape.grid ** 2
    const grids = new Int32Array(labels.length * cells)
    drawn.forEach((g, i) => grids.set(g, i * cells))
    const samples = trainer.decodeCodes(grids, labels)
    await writeGrid(join(dir, 'preview-samples.png'), samples, PER_CLASS, size, channels)
  } else rmSync(join(dir, 'preview-samples.png'), { force: true })
  const picks = trainer.split.val.length ? trainer.split.val : trainer.split.train
  const idx = picks.slice(0, PER_CLASS)
  const record = size * size * channels
  const originals = idx.map((i) => trainer.data.pixels.subarray(i * record, (i + 1) * record))
  await writeGrid(
    join(dir, 'preview-recon.png'),
    [...originals, ...trainer.reconstruct(idx)],
    idx.length,
    size,
    channels,
  )
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

/** Tiles images (size x size x channels) into a grid PNG, written atomically. */
async function writeGrid(
  file: string,
  images: Uint8Array[],
  cols: number,
  size: number,
  channels: number,
): Promise<void> {
  const rows = Math.ceil(images.length / cols)
  const gap = 2
  const W = cols * (size + gap) - gap
  const H = rows * (size + gap) - gap
  const out = Buffer.alloc(W * H * channels, 24)
  images.forEach((img, i) => {
    const ox = (i % cols) * (size + gap)
    const oy = Math.floor(i / cols) * (size + gap)
    for (let y = 0; y < size; y++) {
      const src = img.subarray(y * size * channels, (y + 1) * size * channels)
      out.set(src, ((oy + y) * W + ox) * channels)
    }
  })
  const tmp = `${file}.tmp`
  try {
    await sharp(out, { raw: { width: W, height: H, channels: channels as 1 | 3 | 4 } })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .png()
      .toFile(tmp)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  renameSync(tmp, file)
}
