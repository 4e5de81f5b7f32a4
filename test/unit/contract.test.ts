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
