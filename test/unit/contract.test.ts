import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { Core } from '../../src/core/core'
import { methodNames, methods } from '../../src/shared/contract'
import { tmp } from './helpers/messy'

describe('the API contract', () => {
  let home: string
  let core: Core
  beforeAll(() => {
    home = tmp('contract')
    core = new Core({ home, shell: 'cli' })
  })
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('has a schema for every method name the preload exposes', () => {
    expect(Object.keys(methods).sort()).toEqual([...methodNames].sort())
  })

  it('rejects bad arguments before any work, with a message that names the field', async () => {
    expect(await core.call('datasets.import', { path: '/x', size: 12 })).toEqual({
      ok: false,
      error: {
        code: 'invalid_argument',
        message: 'Invalid arguments for datasets.import: size: the size must be at least 28 px',
      },
    })
    const r = await core.call('datasets.import', { path: 42 } as never)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toMatch(/^Invalid arguments for datasets.import: path: /)
    const extra = await core.call('datasets.get', { id: 1, sneaky: true } as never)
    expect(extra.ok).toBe(false)
    if (!extra.ok) expect(extra.error.message).toMatch(/Unrecognized key.*sneaky/)
    const neg = await core.call('datasets.images', { datasetId: -1 })
    expect(neg.ok).toBe(false)
    if (!neg.ok) expect(neg.error.code).toBe('invalid_argument')
  })

  it('says what is wrong with a setting in plain words: the field and its limit', async () => {
    const message = async (settings: Record<string, unknown>): Promise<string> => {
      const r = await core.call('runs.start', { datasetId: 1, settings } as never)
      return r.ok ? '' : r.error.message
    }
    expect(await message({ epochs: -3 })).toBe(
      'Invalid arguments for runs.start: settings.epochs: Epochs must be at least 1',
    )
    expect(await message({ epochs: 20_000 })).toMatch(
      /settings.epochs: Epochs must be at most 10,000$/,
    )
    expect(await message({ batchSize: 1.5 })).toMatch(
      /settings.batchSize: Batch size must be a whole number$/,
    )
    expect(await message({ learningRate: 0 })).toMatch(
      /settings.learningRate: Learning rate must be above 0$/,
    )
    expect(await message({ latentDim: 1 })).toMatch(
      /settings.latentDim: Latent size must be at least 2$/,
    )
    expect(await message({ reconstruction: 'l1' })).toMatch(
      /settings.reconstruction: Reconstruction loss must be one of mse, bce, gaussian$/,
    )
    expect(await message({ beta: 'x' })).toMatch(
      /settings.beta: Beta \(KL weight\) must be a number$/,
    )
    expect(await message({ epochs: 0, beta: -1 })).not.toMatch(/Too small|expected/)
  })

  it('answers unknown methods and missing datasets with typed errors', async () => {
    expect(await core.call('nope' as never, {})).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'Unknown method: nope' },
    })
    expect(await core.call('datasets.get', { id: 12345 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'No dataset with id 12345.' },
    })
  })

  it('says where the folder dialog is not available', async () => {
    const r = await core.call('dialog.pickFolder', {})
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('unsupported')
  })
})
