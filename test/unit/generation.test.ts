import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { Generator } from '../../src/core/generation/generator'
import { initBackend } from '../../src/core/accel/backend'
import { readPng } from '../../src/core/generation/generate'
import type { GenerationProgress, GenerationSummary } from '../../src/shared/generation'
import { ok } from './helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from './helpers/trained-sample'

function generationDone(core: Core, id: () => number): Promise<GenerationSummary> {
  return new Promise((resolve) => {
    const off = core.on('generation', (e) => {
      if (e.type === 'status' && e.generation.id === id() && e.generation.status !== 'running') {
        off()
        resolve(e.generation)
      }
    })
  })
}

describe('class-balanced generation from a trained run (real Fashion-MNIST sample)', () => {
  let home: string
  let core: Core
  let runId = 0
  let gen: GenerationSummary
  beforeAll(async () => {
    await initBackend('auto')
    ;({ home, runId } = await trainedSample('generation'))
    core = new Core({ home, shell: 'cli' })
    let id = 0
    const done = generationDone(core, () => id)
    // a loose confidence bar: a 25-epoch model on 370 images is not a good generator yet
    gen = await ok(
      core.call('generations.start', {
        runId,
        maxRatio: 2,
        temperature: 0.8,
        filters: { minConfidence: 0.05, duplicate: 0.25, nearCopy: 0.5 },
      }),
    )
    id = gen.id
    gen = await done
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('follows the plan (ratio cap included) and records every sample with its scores', async () => {
    expect(gen.status).toBe('completed')
    expect(gen.classifierAccuracy).toBeGreaterThan(0.3)
    const boot = gen.classes.find((c) => c.className === 'Ankle_boot')!
    expect(boot.real).toBe(8)
    expect(boot.planned).toBe(16) // capped at 2 per real image
    const top = gen.classes.find((c) => c.className === 'T-shirt_top')!
    expect(top.planned).toBe(0) // the majority class
    for (const c of gen.classes) {
      if (!gen.note?.includes(c.className)) expect(c.accepted).toBe(c.planned)
      expect(c.generated).toBe(
        c.accepted + c.filtered['near-copy'] + c.filtered['low-confidence'] + c.filtered.duplicate,
      )
    }
    const list = await ok(core.call('samples.list', { generationId: gen.id, limit: 2000 }))
    expect(list.total).toBe(gen.classes.reduce((a, c) => a + c.generated, 0))
    for (const s of list.items) {
      expect(s.confidence).toBeGreaterThanOrEqual(0)
      expect(s.novelty).toBeGreaterThan(0)
      expect(s.nearestImageId).not.toBeNull()
    }
    const media = await core.mediaByPath(`sample/${list.items[0].id}`)
    expect(media?.mime).toBe('image/png')
  })

  it('calibrates the class test per class on held-out real images (default) or takes one bar', async () => {
    // the absolute bar asked for above is every class's bar
    expect(gen.calibration).toHaveLength(gen.classes.length)
    for (const c of gen.calibration!) expect(c.threshold).toBe(0.05)
    let id = 0
    const done = generationDone(core, () => id)
    const started = await ok(core.call('generations.start', { runId, maxRatio: 1 }))
    expect(started.filters.minConfidence).toBe('auto')
    id = started.id
    const auto = await done
    expect(auto.status).toBe('completed')
    const cal = auto.calibration!
    expect(cal).toHaveLength(auto.classes.length)
    // every real image outside the evaluation split was scored once by a classifier that never
    // saw it; the evaluation split reached none of them
    const ds = await ok(core.call('datasets.get', { id: auto.datasetId }))
    const evaluation = ds.classes.reduce((a, c) => a + c.heldOut, 0)
    expect(evaluation).toBeGreaterThan(0)
    expect(cal.reduce((a, c) => a + c.heldOut, 0)).toBe(
      auto.classes.reduce((a, c) => a + c.real, 0) - evaluation,
    )
    for (const c of cal) {
      expect(c.threshold).toBeGreaterThanOrEqual(1 / auto.classes.length)
      expect(c.threshold).toBeLessThanOrEqual(0.9)
      expect(c.heldOutAccuracy).not.toBeNull()
    }
    // the calibrated bars differ between classes: they follow each class's held-out scores
    expect(new Set(cal.map((c) => c.threshold.toFixed(4))).size).toBeGreaterThan(1)
    // accepted samples passed their own class's bar
    const list = await ok(
      core.call('samples.list', { generationId: auto.id, status: 'accepted', limit: 2000 }),
    )
    for (const s of list.items)
      if (!s.reason) expect(s.confidence).toBeGreaterThanOrEqual(cal[s.classIndex].threshold)
    await ok(core.call('generations.delete', { generationId: auto.id }))
  }, 120_000)

  it('regenerates a sample exactly from its stored provenance (checkpoint, class, seed)', async () => {
    const list = await ok(core.call('samples.list', { generationId: gen.id, limit: 5 }))
    const g = Generator.load(join(gen.folder, 'checkpoint'))
    for (const item of list.items) {
      const s = await ok(core.call('samples.get', { sampleId: item.id }))
      const stored = await readPng(join(gen.folder, 'samples', s.file), 1)
      const [z] = g.latentsForSeeds(s.classIndex, [s.seed], s.provenance.temperature)
      expect(Array.from(z)).toEqual(s.latent.map((v) => Math.fround(v)))
      const [again] = g.decode([z], [s.classIndex])
      expect(Buffer.from(again).equals(Buffer.from(stored))).toBe(true)
    }
    g.dispose()
  })

  it('saves decisions at once, keeps them across a restart, and refills a class after rejections', async () => {
    const bag = gen.classes.find((c) => c.className === 'Bag')!
    const ids = (
      await ok(
        core.call('samples.ids', {
          generationId: gen.id,
          classIndex: bag.classIndex,
          status: 'accepted',
        }),
      )
    ).ids
    expect(ids.length).toBe(bag.accepted)
    const rejected = ids.slice(0, 5)
    expect(
      (
        await ok(
          core.call('samples.decide', {
            decisions: rejected.map((id) => ({ id, status: 'rejected' as const })),
          }),
        )
      ).updated,
    ).toBe(5)
    await core.close()
    core = new Core({ home, shell: 'cli' })
    const after = await ok(core.call('generations.get', { generationId: gen.id }))
    const bagAfter = after.classes.find((c) => c.className === 'Bag')!
    expect(bagAfter.accepted).toBe(bag.accepted - 5)
    expect(bagAfter.reviewed).toBe(5)
    const reviewed = await ok(
      core.call('samples.list', { generationId: gen.id, status: 'reviewed', limit: 50 }),
    )
    expect(reviewed.items.map((s) => s.id).sort()).toEqual([...rejected].sort())
    expect(reviewed.items.every((s) => s.status === 'rejected')).toBe(true)

    const done = generationDone(core, () => gen.id)
    await ok(core.call('generations.refill', { generationId: gen.id, className: 'Bag' }))
    const refilled = await done
    expect(refilled.status).toBe('completed')
    expect(refilled.classes.find((c) => c.className === 'Bag')!.accepted).toBe(bag.planned)
    // earlier decisions are untouched and no seed was used twice
    const all = await ok(core.call('samples.list', { generationId: gen.id, limit: 2000 }))
    expect(new Set(all.items.map((s) => s.seed)).size).toBe(all.items.length)
    for (const id of rejected) expect(all.items.find((s) => s.id === id)!.status).toBe('rejected')
    // a refill trains the class test's classifiers again (up to a minute) before it generates
  }, 180_000)

  it('cancels between batches and keeps what was made', async () => {
    let id = 0
    const done = generationDone(core, () => id)
    const firstBatch = new Promise<void>((resolve) => {
      const off = core.on('generation', (e) => {
        if (e.type === 'samples' && e.generationId === id) {
          off()
          resolve()
        }
      })
    })
    id = (
      await ok(
        core.call('generations.start', {
          runId,
          strategy: { kind: 'targets', targets: { 'T-shirt_top': 3000 } },
          maxRatio: null,
          filters: { minConfidence: 0, nearCopy: 0, duplicate: 0 },
        }),
      )
    ).id
    await firstBatch
    expect((await ok(core.call('generations.cancel', { generationId: id }))).cancelled).toBe(true)
    const cancelled = await done
    expect(cancelled.status).toBe('cancelled')
    const top = cancelled.classes.find((c) => c.className === 'T-shirt_top')!
    expect(top.accepted).toBeGreaterThan(0)
    expect(top.accepted).toBeLessThan(top.planned)
    await ok(core.call('generations.delete', { generationId: id }))
  }, 60_000)

  it('makes a remedy for one class from the same run; its duplicate check covers the first generation; progress counts tries apart', async () => {
    const parent = await ok(core.call('generations.get', { generationId: gen.id }))
    const bag = parent.classes.find((c) => c.className === 'Bag')!
    const accepted = await ok(
      core.call('samples.list', {
        generationId: gen.id,
        classIndex: bag.classIndex,
        status: 'accepted',
        limit: 2000,
      }),
    )
    expect(accepted.total).toBeGreaterThan(0)
    const strategy = { kind: 'targets' as const, targets: { Bag: bag.real + 20 } }
    const unknown = await core.call('generations.start', { runId, parentId: 99_999, strategy })
    expect(unknown.ok).toBe(false)

    let id = 0
    const done = generationDone(core, () => id)
    const seen: GenerationProgress[] = []
    const off = core.on('generation', (e) => {
      if (
        e.type === 'progress' &&
        e.progress.generationId === id &&
        e.progress.phase === 'generating'
      )
        seen.push(e.progress)
    })
    // every sample counts as a duplicate of any accepted one: with the first generation's Bags
    // remembered, nothing here can pass
    const child = await ok(
      core.call('generations.start', {
        runId,
        parentId: gen.id,
        strategy,
        maxRatio: null,
        temperature: 0.8,
        filters: { minConfidence: 0, nearCopy: 0, duplicate: 10 },
      }),
    )
    id = child.id
    expect(child.parentId).toBe(gen.id)
    const end = await done
    off()
    expect(end.status).toBe('completed')
    expect(end.classes.filter((c) => c.planned > 0).map((c) => c.className)).toEqual(['Bag'])
    const made = end.classes.find((c) => c.className === 'Bag')!
    expect(made.accepted).toBe(0)
    expect(made.filtered.duplicate).toBe(made.generated)
    const first = (await ok(core.call('samples.list', { generationId: id, limit: 1 }))).items[0]
    const detail = await ok(core.call('samples.get', { sampleId: first.id }))
    expect(accepted.items.map((s) => s.seed)).toContain(detail.duplicateOfSeed)
    // the progress: nothing accepted, every try counted, an ETA all along, and "not converging"
    const last = seen.at(-1)!
    expect(last.accepted).toBe(0)
    expect(last.rate.tried).toBe(160) // the class's budget: 8 tries per missing sample
    expect(seen.every((p) => p.etaSeconds !== null && p.rate.triedPerSecond > 0)).toBe(true)
    expect(last.rate.stalled).toBe(true)
    expect(last.rate.forecastAccepted).toBe(0)
    await ok(core.call('generations.delete', { generationId: id }))
  }, 60_000)

  it('refuses bad plans with a clear message and deletes a generation with its files', async () => {
    const bad = await core.call('generations.plan', {
      runId,
      strategy: { kind: 'targets', targets: { Bag: 3 } },
    })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.message).toMatch(/below its 12 real images/)
    await ok(core.call('generations.delete', { generationId: gen.id }))
    expect(existsSync(gen.folder)).toBe(false)
    expect((await core.call('generations.get', { generationId: gen.id })).ok).toBe(false)
  })
})
