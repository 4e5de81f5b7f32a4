/**
 * Classic augmentation of real images, for the classes a generator cannot learn: pure, seeded
 * transforms that keep the label. Each sample's transform is drawn from its seed alone, so the
 * same seed and source image give the same pixels on every machine.
 *
 * What is drawn, and why these ranges: a crop of 85-100% of the side (the object stays in view),
 * a rotation within ±10° (photos and drawings are rarely more askew than that), brightness within
 * ±10%, contrast within ±15% and, on colour images only, saturation within ±15%. Hue is never
 * shifted: a colour can be what tells two classes apart. The left-right mirror is drawn only where
 * the class allows it (a mirrored digit or letter is another symbol, or none).
 */
import type { AugmentTransform } from '../../shared/generation'
import { rng } from '../util/random'

export const AUGMENT_RANGES = {
  /** Largest rotation, degrees either way. */
  angle: 10,
  /** Smallest crop, as a share of the side. */
  minScale: 0.85,
  brightness: 0.1,
  contrast: 0.15,
  saturation: 0.15,
} as const

/** The transform that does nothing (what a test compares against). */
export const IDENTITY: AugmentTransform = {
  flip: false,
  angle: 0,
  scale: 1,
  dx: 0,
  dy: 0,
  brightness: 1,
  contrast: 1,
  saturation: 1,
}

/**
 * The transform of one sample, from its seed. Every draw is made whatever the options, so turning
 * the mirror off changes nothing else a seed gives.
 */
export function drawTransform(
  seed: number,
  o: { flip: boolean; colour: boolean },
): AugmentTransform {
  // decorrelated from the plain seed (which the generator's latents also use)
  const r = rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0)
  const sym = () => r() * 2 - 1
  const R = AUGMENT_RANGES
  const mirror = r() < 0.5
  const angle = sym() * R.angle
  const scale = R.minScale + r() * (1 - R.minScale)
  const slack = (1 - scale) / 2
  const dx = sym() * slack
  const dy = sym() * slack
  const brightness = 1 + sym() * R.brightness
  const contrast = 1 + sym() * R.contrast
  const saturation = 1 + sym() * R.saturation
  return {
    flip: o.flip && mirror,
    angle,
    scale,
    dx,
    dy,
    brightness,
    contrast,
    saturation: o.colour ? saturation : 1,
  }
}

/**
 * Which of a class's real images a sample augments: consecutive seeds go round every image before
 * any is used again, so the copies are spread evenly over the class.
 */
export function pickSource(seed: number, count: number): number {
  return ((seed % count) + count) % count
}

/**
 * Applies a transform to one image (`size`×`size`, interleaved `channels`: 1 gray, 3 RGB, 4 RGBA)
 * and returns a new image of the same size and channels. Geometry is an inverse mapping with
 * bilinear sampling and edges clamped; RGBA is interpolated with premultiplied alpha (the colour of
 * a transparent pixel never bleeds into its neighbours); colour changes leave alpha as it is.
 */
export function applyTransform(
  px: Uint8Array,
  size: number,
  channels: number,
  t: AugmentTransform,
): Uint8Array {
  if (px.length !== size * size * channels)
    throw new Error(`Expected ${size * size * channels} values, got ${px.length}.`)
  const colours = channels === 4 ? 3 : channels === 2 ? 1 : channels
  const alpha = channels === 4 || channels === 2
  const out = new Float32Array(size * size * channels)
  const cos = Math.cos((t.angle * Math.PI) / 180)
  const sin = Math.sin((t.angle * Math.PI) / 180)
  const max = size - 1
  const acc = new Float32Array(channels)
  for (let y = 0; y < size; y++) {
    const v = (y + 0.5) / size - 0.5
    for (let x = 0; x < size; x++) {
      const u = ((x + 0.5) / size - 0.5) * (t.flip ? -1 : 1)
      const sx = (t.scale * (cos * u - sin * v) + t.dx + 0.5) * size - 0.5
      const sy = (t.scale * (sin * u + cos * v) + t.dy + 0.5) * size - 0.5
      const cx = Math.min(max, Math.max(0, sx))
      const cy = Math.min(max, Math.max(0, sy))
      const x0 = Math.floor(cx)
      const y0 = Math.floor(cy)
      const x1 = Math.min(max, x0 + 1)
      const y1 = Math.min(max, y0 + 1)
      const fx = cx - x0
      const fy = cy - y0
      const taps = [
        [(y0 * size + x0) * channels, (1 - fx) * (1 - fy)],
        [(y0 * size + x1) * channels, fx * (1 - fy)],
        [(y1 * size + x0) * channels, (1 - fx) * fy],
        [(y1 * size + x1) * channels, fx * fy],
      ] as const
      const o = (y * size + x) * channels
      if (!alpha) {
        for (let c = 0; c < channels; c++) {
          let s = 0
          for (const [i, w] of taps) if (w) s += w * px[i + c]
          out[o + c] = s
        }
        continue
      }
      acc.fill(0)
      let a = 0
      for (const [i, w] of taps) {
        if (!w) continue
        const pa = px[i + colours]
        a += w * pa
        for (let c = 0; c < colours; c++) acc[c] += w * px[i + c] * pa
      }
      out[o + colours] = a
      for (let c = 0; c < colours; c++) {
        if (a > 0) out[o + c] = acc[c] / a
        else {
          // all taps transparent: their colour, unweighted, so a transparent pixel stays as it was
          let s = 0
          for (const [i, w] of taps) if (w) s += w * px[i + c]
          out[o + c] = s
        }
      }
    }
  }
  jitter(out, size * size, channels, colours, t)
  const res = new Uint8Array(out.length)
  for (let i = 0; i < out.length; i++) res[i] = Math.min(255, Math.max(0, Math.round(out[i])))
  return res
}

/** Saturation, then contrast around the image's mean (weighted by alpha), then brightness. */
function jitter(
  img: Float32Array,
  pixels: number,
  channels: number,
  colours: number,
  t: AugmentTransform,
): void {
  if (t.brightness === 1 && t.contrast === 1 && t.saturation === 1) return
  const lum = (o: number) =>
    colours === 3 ? 0.299 * img[o] + 0.587 * img[o + 1] + 0.114 * img[o + 2] : img[o]
  let sum = 0
  let weight = 0
  for (let p = 0; p < pixels; p++) {
    const o = p * channels
    const w = colours < channels ? img[o + colours] / 255 : 1
    sum += w * lum(o)
    weight += w
  }
  const mean = weight > 0 ? sum / weight : 0
  for (let p = 0; p < pixels; p++) {
    const o = p * channels
    const g = lum(o)
    for (let c = 0; c < colours; c++) {
      let v = colours === 3 ? g + (img[o + c] - g) * t.saturation : img[o + c]
      v = (v - mean) * t.contrast + mean
      img[o + c] = v * t.brightness
    }
  }
}
