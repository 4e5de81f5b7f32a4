import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  MIN_IMAGES_TO_HOLD_OUT,
  POOLED_BAR_BELOW,
  smallClassWarning,
} from '../../../src/shared/class-size'
import { splitIndices } from '../../../src/core/training/data'
import { calibrate } from '../../../src/core/generation/calibration'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

describe('the small-class warning', () => {
  it('lists the shipped sample’s small classes in one warning, smallest first', () => {
    const classes = readdirSync(SAMPLE, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => ({ name: d.name, count: readdirSync(join(SAMPLE, d.name)).length }))
    const w = smallClassWarning(classes)!
    expect(w.classes.map((c) => `${c.name} ${c.count}`)).toEqual([
      'Ankle_boot 8',
      'Bag 13',
      'Sneaker 16',
    ])
    expect(w.title).toBe('3 classes are too small to learn from well (under 20 images each)')
    expect(w.lines.join(' ')).toMatch(/trained with the others/)
    expect(w.lines.join(' ')).toMatch(/classic augmentation/)
    // every class here has enough images to hold some out
    expect(w.lines.join(' ')).not.toMatch(/none can be held out/)
  })

  it('says which classes cannot be held out or get the pooled bar, and nothing when none is small', () => {
    const w = smallClassWarning([
      { name: 'big', count: 300 },
      { name: 'three', count: 3 },
      { name: 'four', count: 4 },
      { name: 'empty', count: 0 },
    ])!
    expect(w.classes.map((c) => [c.name, c.noneHeldOut, c.pooledBar])).toEqual([
      ['three', true, true],
      ['four', true, false],
    ])
    expect(w.lines[2]).toBe(
      'three and four have fewer than 5 images: none can be held out, so a run cannot measure how well it knows them, and generated samples of three are checked against a bar pooled from all classes.',
    )
    expect(smallClassWarning([{ name: 'a', count: 20 }])).toBeNull()
  })

  it('matches what training and the class test really do at those sizes', () => {
    for (const n of [MIN_IMAGES_TO_HOLD_OUT - 1, MIN_IMAGES_TO_HOLD_OUT]) {
      const labels = Int32Array.from({ length: n }, () => 0)
      const { val } = splitIndices(labels, 0.1, 1)
      expect(val.length > 0, `${n} images hold some out`).toBe(n >= MIN_IMAGES_TO_HOLD_OUT)
    }
    for (const n of [POOLED_BAR_BELOW - 1, POOLED_BAR_BELOW]) {
      // class 0 with n held-out scores, class 1 with plenty
      const labels = Int32Array.from([...Array(n).fill(0), ...Array(20).fill(1)])
      const own = Float32Array.from(labels, () => 0.5)
      const [c0] = calibrate(own, labels, labels, 2)
      expect(c0.pooled, `${n} held-out scores`).toBe(n < POOLED_BAR_BELOW)
    }
  })
})
