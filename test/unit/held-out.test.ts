import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { loadTrainingData } from '../../src/core/training/data-load'
import { describeHeldOut, heldOutCount } from '../../src/shared/held-out'
import { importAndWait, ok, trainAndWait } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

describe('the evaluation split', () => {
  it('holds out 15% of a class, at least 3, and nothing of a class under 12', () => {
    expect([1, 8, 11].map(heldOutCount)).toEqual([0, 0, 0])
    expect([12, 20, 80, 1000].map(heldOutCount)).toEqual([3, 3, 12, 150])
  })

  it('says which classes are too small to hold any out', () => {
    const text = describeHeldOut([
      { className: 'a', count: 12, total: 80 },
      { className: 'b', count: 0, total: 8 },
    ])
    expect(text).toMatch(/^12 real images .* held out for evaluation/)
    expect(text).toMatch(/b has fewer than 12 images, too few to hold any out/)
  })

  describe('on the shipped sample', () => {
    let home: string
    let core: Core
    let datasetId = 0
    beforeAll(async () => {
      home = tmp('held-out')
      core = new Core({ home, shell: 'cli' })
      datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    })
    afterAll(async () => {
      await core.close()
      rmSync(home, { recursive: true, force: true })
    })

    it('is set aside on first use, stratified and seeded, once', async () => {
      const before = await ok(core.call('datasets.get', { id: datasetId }))
      expect(before.classes.every((c) => c.heldOut === 0)).toBe(true)
      const repo = core.repo
      const split = repo.ensureHeldOut(datasetId)
      for (const c of split) expect(c.count).toBe(heldOutCount(c.total))
      expect(split.some((c) => c.count === 0)).toBe(true) // Ankle_boot has 8
      const ids = () =>
        (
          core.db
            .prepare('SELECT id FROM images WHERE dataset_id = ? AND held_out = 1 ORDER BY id')
            .all(datasetId) as { id: number }[]
        ).map((r) => r.id)
      const first = ids()
      expect(repo.ensureHeldOut(datasetId)).toEqual(split)
      expect(ids()).toEqual(first)
      // the same folder imported elsewhere gets the same split (by path)
      const other = tmp('held-out-again')
      const core2 = new Core({ home: other, shell: 'cli' })
      try {
        const id2 = (await importAndWait(core2, { path: SAMPLE })).summary!.datasetId
        core2.repo.ensureHeldOut(id2)
        const paths = (c: Core, id: number) =>
          (
            c.db
              .prepare('SELECT rel_path FROM images WHERE dataset_id = ? AND held_out = 1')
              .all(id) as { rel_path: string }[]
          )
            .map((r) => r.rel_path)
            .sort()
        expect(paths(core2, id2)).toEqual(paths(core, datasetId))
      } finally {
        await core2.close()
        rmSync(other, { recursive: true, force: true })
      }
      const after = await ok(core.call('datasets.get', { id: datasetId }))
      expect(after.classes.map((c) => c.heldOut)).toEqual(split.map((c) => c.count))
    })

    it('partitions the images: training without it, evaluation with only it', () => {
      const all = loadTrainingData(core.db, home, datasetId, 'include')
      const train = loadTrainingData(core.db, home, datasetId, 'exclude')
      const test = loadTrainingData(core.db, home, datasetId, 'only')
      expect(train.count + test.count).toBe(all.count)
      expect(train.classNames).toEqual(all.classNames)
      expect(test.classNames).toEqual(all.classNames)
      const held = new Set(test.ids)
      expect(Array.from(train.ids).some((id) => held.has(id))).toBe(false)
    })

    it('never reaches a run', async () => {
      const runId = await trainAndWait(core, datasetId, { preset: 'fast', epochs: 1 })
      const { run } = await ok(core.call('runs.get', { runId }))
      expect(run.heldOutExcluded).toBe(true)
      const ds = await ok(core.call('datasets.get', { id: datasetId }))
      const held = ds.classes.reduce((a, c) => a + c.heldOut, 0)
      expect(held).toBeGreaterThan(0)
      expect(run.trainImages! + run.valImages!).toBe(ds.imageCount - held)
    })
  })
})
