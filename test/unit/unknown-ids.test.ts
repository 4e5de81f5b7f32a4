import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import type { MethodName } from '../../src/shared/contract'
import { importAndWait } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

/**
 * An id that names nothing is an error a person can act on, never a silent empty result: every
 * contract method that takes a dataset, run, generation or export id answers not_found for one
 * that does not exist (an export of "generation 999" used to export the real images only).
 */
describe('unknown ids and relative output folders in the API', () => {
  let home: string
  let elsewhere: string
  let core: Core
  let datasetId = 0
  beforeAll(async () => {
    home = tmp('unknown-ids')
    elsewhere = tmp('unknown-ids-out')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
  }, 60_000)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(elsewhere, { recursive: true, force: true })
  })

  it('answers not_found for every unknown dataset, run, generation and export id', async () => {
    const out = join(elsewhere, 'out')
    const calls: [MethodName, unknown][] = [
      ['datasets.get', { id: 999 }],
      ['datasets.images', { datasetId: 999 }],
      ['datasets.skipped', { datasetId: 999 }],
      ['datasets.rename', { id: 999, name: 'x' }],
      ['datasets.delete', { id: 999 }],
      ['runs.start', { datasetId: 999 }],
      ['runs.resume', { runId: 999 }],
      ['runs.cancel', { runId: 999 }],
      ['runs.list', { datasetId: 999 }],
      ['runs.get', { runId: 999 }],
      ['runs.delete', { runId: 999 }],
      ['runs.sample', { runId: 999, class: 0, n: 1, outDir: out }],
      ['runs.estimate', { datasetId: 999 }],
      ['runs.exportGenerator', { runId: 999, out }],
      ['generations.plan', { runId: 999 }],
      ['generations.start', { runId: 999 }],
      ['generations.list', { runId: 999 }],
      ['generations.list', { datasetId: 999 }],
      ['generations.get', { generationId: 999 }],
      ['generations.cancel', { generationId: 999 }],
      ['generations.refill', { generationId: 999 }],
      ['generations.delete', { generationId: 999 }],
      ['samples.list', { generationId: 999 }],
      ['samples.ids', { generationId: 999 }],
      ['samples.get', { sampleId: 999 }],
      ['exports.preview', { datasetId: 999 }],
      ['exports.preview', { datasetId, generationIds: [999] }],
      ['exports.start', { datasetId: 999, out }],
      ['exports.start', { datasetId, out, generationIds: [999] }],
      ['exports.start', { datasetId, out, include: 'synthetic', generationIds: [999] }],
      ['exports.list', { datasetId: 999 }],
      ['exports.get', { exportId: 999 }],
      ['exports.cancel', { exportId: 999 }],
      ['exports.resume', { exportId: 999 }],
      ['exports.cleanup', { exportId: 999 }],
      ['studio.map', { runId: 999 }],
      ['studio.interpolate', { runId: 999, from: { class: 0 }, to: { class: 1 }, outDir: out }],
      ['studio.dimensions', { runId: 999, class: 0 }],
      ['studio.decode', { runId: 999, class: 0, latents: [[0, 0]] }],
      [
        'studio.traverse',
        { runId: 999, class: 0, base: [0, 0], dims: [{ index: 0, mean: 0, sd: 1 }], values: [1] },
      ],
      ['audits.start', { runId: 999 }],
      ['audits.latest', { runId: 999 }],
      ['audits.get', { auditId: 999 }],
      ['audits.cancel', { auditId: 999 }],
      ['audits.images', { auditId: 999 }],
      ['datasets.relabel', { datasetId: 999, path: 'Bag/x.png', className: 'Bag' }],
      ['datasets.exclude', { datasetId: 999, path: 'Bag/x.png' }],
      ['datasets.overrides', { datasetId: 999 }],
      ['datasets.relabel', { datasetId, imageId: 999, className: 'Bag' }],
      ['datasets.exclude', { datasetId, imageId: 999 }],
    ]
    const wrong: string[] = []
    for (const [method, args] of calls) {
      const r = await core.call(method, args)
      if (r.ok || r.error.code !== 'not_found' || !/999/.test(r.error.message))
        wrong.push(`${method} ${JSON.stringify(args)} -> ${JSON.stringify(r)}`)
    }
    expect(wrong).toEqual([])
    expect(existsSync(out)).toBe(false)
  })

  it('refuses a __proto__ class target from JSON instead of dropping it', async () => {
    const strategy = JSON.parse('{"kind":"targets","targets":{"__proto__":5}}')
    const r = await core.call('generations.plan', { runId: 999, strategy })
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'invalid_argument', message: expect.stringMatching(/__proto__/) },
    })
  })

  it('refuses a relative output folder instead of writing into the server’s working directory', async () => {
    // (run in a scratch working directory: before the fix the export really was written there)
    const cwd = process.cwd()
    process.chdir(elsewhere)
    try {
      for (const [method, args] of [
        ['exports.start', { datasetId, out: 'relative/out' }],
        ['runs.exportGenerator', { runId: 1, out: 'gen' }],
        ['runs.sample', { runId: 1, class: 0, n: 1, outDir: './samples' }],
        ['studio.interpolate', { runId: 1, from: { class: 0 }, to: { class: 1 }, outDir: 'strip' }],
      ] as [MethodName, unknown][]) {
        const r = await core.call(method, args)
        expect(r, method).toMatchObject({
          ok: false,
          error: { code: 'invalid_argument', message: expect.stringMatching(/absolute folder/) },
        })
      }
      expect(existsSync(join(elsewhere, 'relative'))).toBe(false)
    } finally {
      process.chdir(cwd)
    }
  })
})
