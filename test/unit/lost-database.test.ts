import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

/**
 * A database that lost its tables (a 0-byte file after a crash, a bad sync, a restore gone wrong)
 * must not turn into an empty library that then writes new records over the old ones' folders.
 */
describe('a lost or replaced database', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('refuses to open a 0-byte database beside existing data folders, naming the file', async () => {
    const home = tmp('lostdb')
    dirs.push(home)
    // what a library looks like after its database file was truncated to 0 bytes
    mkdirSync(join(home, 'datasets', '1'), { recursive: true })
    writeFileSync(join(home, 'datasets', '1', 'pixels-0-28x1.u8'), 'pixels')
    mkdirSync(join(home, 'runs', '1', 'best'), { recursive: true })
    writeFileSync(join(home, 'runs', '1', 'best', 'checkpoint.json'), '{}')
    writeFileSync(join(home, 'synthfold.db'), '')
    expect(() => new Core({ home, shell: 'cli' })).toThrow(
      new RegExp(`${join(home, 'synthfold.db').replace(/[/.]/g, '\\$&')}.*(lost|no) .*tables`),
    )
    // the file is left as it was for whoever restores it
    expect(readFileSync(join(home, 'synthfold.db')).length).toBe(0)
    // a fresh folder (nothing but an empty database) still opens as a new library
    const fresh = tmp('freshdb')
    dirs.push(fresh)
    writeFileSync(join(fresh, 'synthfold.db'), '')
    const c = new Core({ home: fresh, shell: 'cli' })
    expect(await ok(c.call('datasets.list', {}))).toEqual([])
    await c.close()
  })

  it('never writes a new record into a folder that holds another record’s files', async () => {
    const home = tmp('reuse')
    dirs.push(home)
    // a database restored from before dataset 1 and run 1 existed: their files are still there
    const core = new Core({ home, shell: 'cli' })
    mkdirSync(join(home, 'datasets', '1'), { recursive: true })
    writeFileSync(join(home, 'datasets', '1', 'pixels-0-28x1.u8'), 'old pixels')
    try {
      const refused = await importAndWait(core, { path: SAMPLE })
      expect(refused.event.type).toBe('failed')
      if (refused.event.type === 'failed')
        expect(refused.event.error.message).toMatch(/datasets\/1 already holds files/)
      expect(readFileSync(join(home, 'datasets', '1', 'pixels-0-28x1.u8'), 'utf8')).toBe(
        'old pixels',
      )
      expect(await ok(core.call('datasets.list', {}))).toEqual([])

      rmSync(join(home, 'datasets', '1'), { recursive: true })
      const datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
      mkdirSync(join(home, 'runs', '1', 'best'), { recursive: true })
      writeFileSync(join(home, 'runs', '1', 'best', 'checkpoint.json'), 'old run')
      // an epoch count: no speed measurement (a worker process) before the refusal
      const r = await core.call('runs.start', {
        datasetId,
        settings: { preset: 'fast', epochs: 1 },
      })
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(/runs\/1 already holds files/)
      expect(readFileSync(join(home, 'runs', '1', 'best', 'checkpoint.json'), 'utf8')).toBe(
        'old run',
      )
      expect(await ok(core.call('runs.list', { datasetId }))).toEqual([])
    } finally {
      await core.close()
    }
  })
})
