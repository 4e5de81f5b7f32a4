import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Trainer } from './trainer'
import type { VqTrainer } from './vq-trainer'
import { previewImages, type PreviewGrid, type PreviewImages } from './preview-images'

/**
 * Writes the run page's two pictures after an epoch: a grid of samples (a row per class, drawn
 * from that class's fitted latent distribution) and originals above their reconstructions.
 */
export async function writePreviews(
  trainer: Trainer | VqTrainer,
  dir: string,
  seed: number,
): Promise<void> {
  await writePreviewImages(dir, previewImages(trainer, seed))
}

/** Writes pictures made elsewhere (the GPU trainer page sends their pixels to main). */
export async function writePreviewImages(dir: string, images: PreviewImages): Promise<void> {
  mkdirSync(dir, { recursive: true })
  if (images.samples) await writeGrid(join(dir, 'preview-samples.png'), images.samples)
  else rmSync(join(dir, 'preview-samples.png'), { force: true })
  await writeGrid(join(dir, 'preview-recon.png'), images.recon)
}

/** A grid as a PNG, written atomically. */
async function writeGrid(file: string, grid: PreviewGrid): Promise<void> {
  const tmp = `${file}.tmp`
  const { width, height, channels } = grid
  try {
    await sharp(Buffer.from(grid.pixels.buffer, grid.pixels.byteOffset, grid.pixels.byteLength), {
      raw: { width, height, channels: channels as 1 | 3 | 4 },
    })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .png()
      .toFile(tmp)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  renameSync(tmp, file)
}
