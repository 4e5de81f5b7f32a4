import { describe, expect, it } from 'vitest'
import {
  BUDGETS,
  planTraining,
  resolveSettings,
  secondsPerEpoch,
} from '../../../src/shared/train-settings'

// The shipped sample: 356 gray 28 px images, 10 classes.
const sample = { size: 28, channels: 1, imageCount: 356 }

describe('training budgets by optimiser steps and time', () => {
  it('gives a tiny dataset at least its preset minimum of optimiser steps', () => {
    for (const preset of ['fast', 'balanced', 'quality'] as const) {
      const plan = planTraining({ preset }, { ...sample, imagesPerSecond: 900 })
      expect(plan.steps, preset).toBeGreaterThanOrEqual(BUDGETS[preset].minSteps)
      // more epochs than the preset's own count: 356 images are 5 steps an epoch
      expect(plan.settings.epochs, preset).toBeGreaterThan(BUDGETS[preset].epochs)
      expect(plan.capped).toBe(false)
    }
    // without a measured speed too: the step floor does not depend on it
    const unmeasured = planTraining({}, sample)
    expect(unmeasured.stepsPerEpoch).toBe(5)
    expect(unmeasured.steps).toBeGreaterThanOrEqual(600)
    expect(unmeasured.seconds).toBeNull()
  })

  it('keeps a huge dataset within its time budget at the measured speed', () => {
    const huge = { size: 64, channels: 3, imageCount: 30_000, imagesPerSecond: 600 }
    for (const preset of ['fast', 'balanced', 'quality'] as const) {
      const plan = planTraining({ preset }, huge)
      const s = plan.settings
      const perEpoch = secondsPerEpoch(huge.imageCount, plan.stepsPerEpoch, s.batchSize, 600)
      expect(plan.capped, preset).toBe(true)
      expect(s.epochs * perEpoch, preset).toBeLessThanOrEqual(BUDGETS[preset].maxSeconds)
      expect(s.epochs, preset).toBeLessThan(BUDGETS[preset].epochs)
      expect(s.timeBudgetSeconds, preset).toBe(BUDGETS[preset].maxSeconds)
    }
    // a faster machine gets more of the same budget
    const slow = planTraining({}, huge).settings.epochs
    const fast = planTraining({}, { ...huge, imagesPerSecond: 1200 }).settings.epochs
    expect(fast).toBeGreaterThan(slow)
  })

  it('says so when a single epoch is over the budget', () => {
    const plan = planTraining(
      {},
      { size: 128, channels: 3, imageCount: 30_000, imagesPerSecond: 20 },
    )
    expect(plan.settings.epochs).toBe(1)
    expect(plan.settings.timeBudgetSeconds).toBe(600)
    expect(plan.reasons.join(' ')).toContain('so the run trains that one epoch')
  })

  it('trains a mid-size set for the preset epochs when they fit', () => {
    const plan = planTraining({}, { size: 28, channels: 1, imageCount: 3000, imagesPerSecond: 900 })
    expect(plan.settings.epochs).toBe(BUDGETS.balanced.epochs)
    expect(plan.steps).toBe(42 * 40)
  })

  it('lets a person’s epoch count win, with no time budget unless they set one', () => {
    const huge = { size: 64, channels: 3, imageCount: 30_000, imagesPerSecond: 150 }
    const s = resolveSettings({ epochs: 200 }, huge)
    expect(s.epochs).toBe(200)
    expect(s.timeBudgetSeconds).toBe(0)
    expect(resolveSettings({ epochs: 3, timeBudgetSeconds: 60 }, huge).timeBudgetSeconds).toBe(60)
    // a budget given without epochs caps the plan instead of the preset's
    const short = planTraining({ timeBudgetSeconds: 120 }, { ...huge, imagesPerSecond: 1200 })
    expect(short.settings.timeBudgetSeconds).toBe(120)
    expect(short.seconds!).toBeLessThanOrEqual(120)
  })

  it('chooses the width from the data: narrower for a few hundred, wider for many colour images', () => {
    expect(resolveSettings({}, sample).baseFilters).toBeLessThan(32)
    expect(resolveSettings({}, { ...sample, imageCount: 3000 }).baseFilters).toBe(32)
    expect(
      resolveSettings({}, { size: 64, channels: 3, imageCount: 20_000 }).baseFilters,
    ).toBeGreaterThan(32)
    expect(resolveSettings({ baseFilters: 8 }, sample).baseFilters).toBe(8)
  })

  it('augments the class loss on small datasets only, unless told otherwise', () => {
    expect(resolveSettings({}, sample).classAugmentShift).toBe(2)
    expect(resolveSettings({ epochs: 3 }, sample).classAugmentShift).toBe(2)
    expect(resolveSettings({ classAugmentShift: 0 }, sample).classAugmentShift).toBe(0)
    expect(resolveSettings({}, { ...sample, imageCount: 20_000 }).classAugmentShift).toBe(0)
    expect(planTraining({}, sample).reasons.join(' ')).toContain('Class loss augmentation 2 px')
  })

  it('scales warm-up and early-stopping patience with the planned run', () => {
    const s = resolveSettings({}, sample)
    const share = s.epochs / BUDGETS.balanced.epochs
    expect(s.klWarmupEpochs).toBeCloseTo(5 * share, 0)
    expect(s.earlyStoppingPatience).toBe(Math.round(8 * share))
    // the fast preset keeps early stopping off; a person's epoch count keeps the preset's values
    expect(resolveSettings({ preset: 'fast' }, sample).earlyStoppingPatience).toBe(0)
    expect(resolveSettings({ epochs: 3 }, sample)).toMatchObject({
      klWarmupEpochs: 5,
      earlyStoppingPatience: 8,
    })
  })

  it('explains the plan in sentences that carry its numbers', () => {
    const plan = planTraining({}, { ...sample, imagesPerSecond: 900 })
    const text = plan.reasons.join(' ')
    expect(text).toContain('356 images')
    expect(text).toContain('5 optimiser steps an epoch')
    expect(text).toContain(
      `under its minimum of 600 steps: ${plan.settings.epochs} epochs (${plan.steps} steps)`,
    )
    expect(text).toContain('900 images/s')
    expect(text).toContain(`Base filters ${plan.settings.baseFilters}`)
    expect(text).toContain('10 min')

    const capped = planTraining(
      {},
      { size: 64, channels: 3, imageCount: 30_000, imagesPerSecond: 600 },
    )
    expect(capped.reasons.join(' ')).toMatch(
      new RegExp(`over its 10 min budget: ${capped.settings.epochs} epochs`),
    )
    expect(planTraining({ epochs: 7 }, sample).reasons.join(' ')).toContain(
      '7 epochs as you set (35 steps), run in full',
    )
  })

  it('refuses a bad value with the setting’s own message before planning', () => {
    expect(() => planTraining({ batchSize: 0 }, sample)).toThrow(/Batch size must be at least 2/)
  })
})
