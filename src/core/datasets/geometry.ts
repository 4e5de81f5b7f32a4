import type { Sharp } from 'sharp'
import { loadSharp } from './sharp-lazy'
import { readFile } from 'node:fs/promises'
import type { ChannelMode } from '../../shared/types'
import { MAX_SIZE, MIN_SIZE } from '../../shared/contract'
import { decodeBmp } from './bmp'
import { sniffFormat } from './formats'

/** The largest default resolution: bigger images are usually better trained at 64 px on a CPU. */
export const DEFAULT_MAX_SIZE = 64
const SAMPLE = 64

/**
 * Picks the dataset's training resolution and channel mode from a spread of its images: the
 * median shortest side (rounded down to a multiple of 4, within 28..64), grayscale unless some
 * sampled image has real colour. Transparency is flattened unless the person asks for rgba.
 */
export async function chooseGeometry(
  files: string[],
): Promise<{ size: number; channels: ChannelMode }> {
  const step = Math.max(1, Math.floor(files.length / SAMPLE))
  const sides: number[] = []
  let colour = false
  for (let i = 0; i < files.length && sides.length < SAMPLE; i += step) {
    const probe = await probe1(files[i]).catch(() => null)
    if (!probe) continue
    sides.push(Math.min(probe.width, probe.height))
    colour ||= probe.colour
  }
  return { size: pickSize(sides), channels: colour ? 'rgb' : 'gray' }
}

export function pickSize(sides: number[]): number {
  if (sides.length === 0) return 32
  const sorted = [...sides].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]
  const rounded = Math.floor(median / 4) * 4
  return Math.min(Math.max(rounded, MIN_SIZE), Math.min(DEFAULT_MAX_SIZE, MAX_SIZE))
}

async function probe1(
  file: string,
): Promise<{ width: number; height: number; colour: boolean } | null> {
  const buf = await readFile(file)
  const format = sniffFormat(buf.subarray(0, 512))
  if (!format || format === 'svg') return null
  let img: Sharp
  const sharp = await loadSharp()
  if (format === 'bmp') {
    const raw = decodeBmp(buf)
    img = sharp(Buffer.from(raw.data), {
      raw: { width: raw.width, height: raw.height, channels: raw.channels },
    })
  } else {
    img = sharp(buf, { limitInputPixels: 100_000_000, pages: 1 })
  }
  const meta = await img.metadata()
  if (!meta.width || !meta.height) return null
  if (meta.space === 'b-w' || meta.space === 'grey16')
    return { width: meta.width, height: meta.height, colour: false }
  const { data, info } = await img
    .clone()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(24, 24, { fit: 'fill' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
  let colour = false
  for (let i = 0; i + 2 < data.length && info.channels >= 3; i += info.channels) {
    if (Math.abs(data[i] - data[i + 1]) > 10 || Math.abs(data[i + 1] - data[i + 2]) > 10) {
      colour = true
      break
    }
  }
  return { width: meta.width, height: meta.height, colour }
}
