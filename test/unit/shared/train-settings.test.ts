import { describe, expect, it } from 'vitest'
import { formatDuration } from '../../../src/shared/format'
import { SETTING_LABELS, settingsProblems, trainSettings } from '../../../src/shared/train-settings'

describe('training settings as a person reads them', () => {
  it('has a human label for every setting', () => {
    for (const key of Object.keys(trainSettings.shape))
      expect(SETTING_LABELS[key as keyof typeof SETTING_LABELS], key).toMatch(/^[A-Z]/)
  })

  it('checks what was typed in the panel with the contract, one plain message per field', () => {
    expect(settingsProblems({ epochs: -3 })).toEqual({ epochs: 'Epochs must be at least 1' })
    expect(settingsProblems({ epochs: 3, batchSize: 32 })).toEqual({})
    expect(settingsProblems({ validationSplit: 0.9, seed: -1 })).toEqual({
      validationSplit: 'Validation split must be at most 0.5',
      seed: 'Seed must be at least 0',
    })
    expect(settingsProblems({ epochs: Number.NaN })).toEqual({
      epochs: 'Epochs must be a number',
    })
  })

  it('never writes a negative or non-finite duration', () => {
    expect(formatDuration(-15)).toBe('—')
    expect(formatDuration(Number.NaN)).toBe('—')
    expect(formatDuration(75)).toBe('1m 15s')
  })
})
