import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src/core/accel/backend'
import { armTraining, CancelledError, evaluateArms } from '../../../src/core/evaluate/arms'
import type { ArmName } from '../../../src/shared/evaluation'
import { downstreamSteps, type LabeledImages } from '../../../src/core/evaluate/downstream'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

/** The shipped sample as gray 28 px images; every `holdEvery`-th image of a class is held out. */
async function sample(holdEvery: number) {
  const classNames = readdirSync(SAMPLE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
  const train: LabeledImages = { images: [], labels: [] }
  const test: LabeledImages = { images: [], labels: [] }
  for (const [c, name] of classNames.entries()) {
    const files = readdirSync(join(SAMPLE, name)).sort()
    for (const [i, f] of files.entries()) {
      const px = await sharp(join(SAMPLE, name, f))
        .grayscale()
        .resize(28, 28)
        .raw()
        .toBuffer()
        // the sample holds deliberately broken files (the import skips them)
        .catch(() => null)
      if (!px) continue
      const into = i % holdEvery === 0 ? test : train
      into.images.push(new Uint8Array(px))
      into.labels.push(c)
    }
  }
  return { classNames, train, test }
}

describe('the downstream check on the shipped sample', () => {
  beforeAll(async () => {
    await initBackend('auto')
  })

  it('gives every arm the same number of steps, bounded both ways', () => {
    expect(downstreamSteps(100)).toBe(300)
    expect(downstreamSteps(3000)).toBe(Math.ceil((30 * 3000) / 64))
    expect(downstreamSteps(1_000_000)).toBe(3000)
  })

  it('builds each arm from the real and synthetic images as named', () => {
    const real: LabeledImages = {
      images: [0, 0, 0, 0, 1].map((l) => new Uint8Array([l])),
      labels: [0, 0, 0, 0, 1],
    }
    const synthetic: LabeledImages = {
      images: [0, 1, 1, 2].map((l) => new Uint8Array([l])),
      labels: [0, 1, 1, 2],
    }
    expect(armTraining('real', real, synthetic, 3).train.images).toHaveLength(5)
    const cw = armTraining('class-weights', real, synthetic, 3).train
    expect(cw.weights).toEqual([0.625, 0.625, 0.625, 0.625, 2.5])
    const syn = armTraining('synthetic-half-weight', real, synthetic, 3).train
    expect(syn.labels).toEqual([0, 0, 0, 0, 1, 0, 1, 1, 2])
    expect(syn.weights?.slice(5)).toEqual([0.5, 0.5, 0.5, 0.5])
    // counts 4, 1, 0: median 1, so only classes below it (class 2) get synthetic images
    expect(armTraining('synthetic-tail', real, synthetic, 3).train.labels).toEqual([
      0, 0, 0, 0, 1, 2,
    ])
    const la = armTraining('synthetic+logit-adjusted', real, synthetic, 3)
    expect(la.adjust?.[0]).toBeCloseTo(Math.log(5 / 9), 6)
  })

  it('trains the classifier of each arm well above chance, repeatably', async () => {
    const { classNames, train, test } = await sample(4)
    const shape = { size: 28, channels: 1, classes: classNames.length }
    const run = (arms: ArmName[]) =>
      evaluateArms({
        real: train,
        synthetic: { images: [], labels: [] },
        test,
        classNames,
        shape,
        seeds: 1,
        steps: 200,
        arms,
      })
    const arms = await run(['real', 'class-weights'])
    expect(arms.map((a) => a.name)).toEqual(['real', 'class-weights'])
    for (const a of arms) {
      expect(a.balancedAccuracy).toBeGreaterThan(0.4) // chance is 0.1
      expect(Object.keys(a.perClassRecall)).toEqual(classNames)
      expect(a.seeds).toHaveLength(1)
    }
    // the sample is imbalanced (8 to 80 a class): weighting moves the result
    expect(arms[1].balancedAccuracy).not.toBe(arms[0].balancedAccuracy)
    expect((await run(['real']))[0].seeds).toEqual(arms[0].seeds)
  })

  it('stops when cancelled', async () => {
    const { classNames, train, test } = await sample(4)
    let stop = false
    const p = evaluateArms({
      real: train,
      synthetic: { images: [], labels: [] },
      test,
      classNames,
      shape: { size: 28, channels: 1, classes: classNames.length },
      seeds: 3,
      steps: 50,
      onProgress: () => (stop = true),
      shouldStop: () => stop,
    })
    await expect(p).rejects.toBeInstanceOf(CancelledError)
  })
})
