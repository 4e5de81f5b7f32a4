import { describe, expect, it } from 'vitest'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import {
  AUGMENT_RANGES,
  IDENTITY,
  applyTransform,
  drawTransform,
  pickSource,
} from '../../../src/core/augment/transforms'
import { features } from '../../../src/core/generation/features'
import type { AugmentTransform } from '../../../src/shared/generation'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')
const ICONS = '/usr/share/icons/oxygen/base/48x48/places'

/** The shipped sample's images (28 px gray) per class, as the pixel store holds them. */
async function sampleImages(): Promise<{ label: number; px: Uint8Array }[]> {
  const classes = readdirSync(SAMPLE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
  const out: { label: number; px: Uint8Array }[] = []
  for (const [label, c] of classes.entries())
    for (const f of readdirSync(join(SAMPLE, c)).filter((f) => f.endsWith('.png'))) {
      // the sample holds a few damaged files on purpose (the import skips them): so does this
      const r = await sharp(join(SAMPLE, c, f))
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true })
        .catch(() => null)
      if (r?.info.width === 28 && r.info.height === 28)
        out.push({ label, px: new Uint8Array(r.data) })
    }
  return out
}

async function icon(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(join(ICONS, file))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  expect(info.width).toBe(48)
  return new Uint8Array(data)
}

describe('classic augmentation transforms', () => {
  it('repeats exactly for a seed, differs between seeds, and stays within its ranges', () => {
    const a = drawTransform(1234, { flip: true, colour: true })
    expect(drawTransform(1234, { flip: true, colour: true })).toEqual(a)
    expect(drawTransform(1235, { flip: true, colour: true })).not.toEqual(a)
    for (let seed = 0; seed < 500; seed++) {
      const t = drawTransform(seed, { flip: true, colour: true })
      expect(Math.abs(t.angle)).toBeLessThanOrEqual(AUGMENT_RANGES.angle)
      expect(t.scale).toBeGreaterThanOrEqual(AUGMENT_RANGES.minScale)
      expect(t.scale).toBeLessThanOrEqual(1)
      // the crop never leaves the image
      expect(Math.abs(t.dx)).toBeLessThanOrEqual((1 - t.scale) / 2 + 1e-12)
      expect(Math.abs(t.dy)).toBeLessThanOrEqual((1 - t.scale) / 2 + 1e-12)
      expect(Math.abs(t.brightness - 1)).toBeLessThanOrEqual(AUGMENT_RANGES.brightness)
      expect(Math.abs(t.contrast - 1)).toBeLessThanOrEqual(AUGMENT_RANGES.contrast)
    }
    const px = new Uint8Array(28 * 28).map((_, i) => (i * 37) % 256)
    expect(applyTransform(px, 28, 1, a)).toEqual(applyTransform(px, 28, 1, a))
  })

  it('mirrors only where allowed, and turning it off changes nothing else', () => {
    const on = Array.from({ length: 400 }, (_, s) =>
      drawTransform(s, { flip: true, colour: false }),
    )
    const off = Array.from({ length: 400 }, (_, s) =>
      drawTransform(s, { flip: false, colour: false }),
    )
    expect(off.every((t) => !t.flip)).toBe(true)
    const mirrored = on.filter((t) => t.flip).length
    expect(mirrored).toBeGreaterThan(150)
    expect(mirrored).toBeLessThan(250)
    off.forEach((t, i) => expect({ ...t, flip: on[i].flip }).toEqual(on[i]))
    // gray images: no saturation change
    expect(on.every((t) => t.saturation === 1)).toBe(true)
  })

  it('leaves an image as it is under the identity, and a mirror is an exact mirror', () => {
    const size = 16
    const px = new Uint8Array(size * size * 3).map((_, i) => (i * 53 + 7) % 256)
    expect(applyTransform(px, size, 3, IDENTITY)).toEqual(px)
    const m = applyTransform(px, size, 3, { ...IDENTITY, flip: true })
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++)
          expect(m[(y * size + x) * 3 + c]).toBe(px[(y * size + (size - 1 - x)) * 3 + c])
  })

  it('keeps size and channels: gray, RGB and RGBA (alpha kept, never jittered)', async () => {
    const gray = new Uint8Array(28 * 28).fill(100)
    const t = drawTransform(7, { flip: true, colour: true })
    expect(applyTransform(gray, 28, 1, t)).toHaveLength(28 * 28)
    expect(applyTransform(new Uint8Array(32 * 32 * 3), 32, 3, t)).toHaveLength(32 * 32 * 3)
    expect(() => applyTransform(gray, 32, 1, t)).toThrow(/Expected 1024 values/)

    // a real RGBA icon: transparent corners stay transparent, the opaque middle stays opaque,
    // whatever the brightness, contrast and saturation do to the colours
    const px = await icon('user-trash.png')
    const size = 48
    const strong = { ...t, brightness: 1.1, contrast: 0.85, saturation: 1.15, angle: 8 }
    const out = applyTransform(px, size, 4, strong)
    expect(out).toHaveLength(px.length)
    const alphaAt = (img: Uint8Array, x: number, y: number) => img[(y * size + x) * 4 + 3]
    expect(alphaAt(px, 0, 0)).toBe(0)
    expect(alphaAt(out, 0, 0)).toBe(0)
    expect(alphaAt(px, 24, 24)).toBe(255)
    expect(alphaAt(out, 24, 24)).toBe(255)
    // colour jitter alone leaves alpha exactly as it was
    const jittered = applyTransform(px, size, 4, { ...IDENTITY, brightness: 0.9, saturation: 1.1 })
    for (let i = 3; i < px.length; i += 4) expect(jittered[i]).toBe(px[i])
    expect(jittered).not.toEqual(px)
    // premultiplied sampling: a transparent pixel's colour does not leak into opaque ones
    const edge = new Uint8Array(4 * 4 * 4)
    for (let p = 0; p < 16; p++) {
      const opaque = p % 4 < 2
      edge.set(opaque ? [10, 200, 10, 255] : [255, 0, 255, 0], p * 4)
    }
    const shifted = applyTransform(edge, 4, 4, { ...IDENTITY, dx: 0.1 })
    for (let p = 0; p < 16; p++) if (shifted[p * 4 + 3] > 0) expect(shifted[p * 4]).toBeLessThan(20)
  })

  it('keeps the label: augmented copies of the shipped sample stay with their class', async () => {
    // Nearest-neighbour classification on the novelty filter's features, each copy judged against
    // every other real image (never its own source). Pixel neighbours are strict: any shift costs
    // a little, so the copies are held to within 12 points of the originals' own leave-one-out
    // accuracy, and a transform that does lose the class (a quarter turn and a half crop) is shown
    // to fall well below that.
    const imgs = await sampleImages()
    const feats = imgs.map((im) => features(im.px, 28, 1))
    const classify = (f: Float32Array, skip: number) => {
      let best = Infinity
      let label = -1
      feats.forEach((g, j) => {
        if (j === skip) return
        let d = 0
        for (let k = 0; k < f.length; k++) d += (f[k] - g[k]) ** 2
        if (d < best) {
          best = d
          label = imgs[j].label
        }
      })
      return label
    }
    const accuracy = (t: (i: number) => AugmentTransform) =>
      imgs.filter((im, i) => {
        const out = applyTransform(im.px, 28, 1, t(i))
        return classify(features(out, 28, 1), i) === im.label
      }).length / imgs.length
    expect(imgs.length).toBeGreaterThan(300)
    const original = accuracy(() => IDENTITY)
    const augmented = accuracy((i) => drawTransform(i * 31 + 5, { flip: true, colour: false }))
    const destroyed = accuracy(() => ({ ...IDENTITY, angle: 90, scale: 0.5, dx: 0.2 }))
    expect(original).toBeGreaterThan(0.6)
    expect(augmented).toBeGreaterThan(original - 0.12)
    expect(destroyed).toBeLessThan(original - 0.2)
  })

  it('spreads the copies evenly over a class’s images', () => {
    const used = new Array(7).fill(0)
    for (let seed = 1000; seed < 1070; seed++) used[pickSource(seed, 7)]++
    expect(used).toEqual(new Array(7).fill(10))
  })
})
