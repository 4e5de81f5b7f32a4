import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { fakeGeneration, type FakeSample } from './helpers/fake-generation'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

/**
 * Issue 16, item 11: Select all -> Accept on 180 rejected Sneakers made 228 accepted against a
 * plan of 48 (16 real images, a 3:1 cap) without a word. The decide API now says what a decision
 * does to each class against its plan and cap, and can accept only up to the plan.
 */
describe('review decisions against the plan and the ratio cap', () => {
  let home: string
  let core: Core
  let gid = 0
  let rejected: number[] = []
  beforeAll(async () => {
    home = tmp('review-balance')
    core = new Core({ home, shell: 'cli' })
    const datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    const samples: FakeSample[] = [
      ...Array.from({ length: 48 }, () => ({
        className: 'Sneaker',
        status: 'accepted' as const,
        confidence: 0.95,
      })),
      ...Array.from({ length: 180 }, (_, i) => ({
        className: 'Sneaker',
        status: 'rejected' as const,
        reason: 'duplicate' as const,
        confidence: (i % 90) / 100,
      })),
    ]
    gid = await fakeGeneration(core, datasetId, samples)
    rejected = (await ok(core.call('samples.ids', { generationId: gid, status: 'rejected' }))).ids
  }, 60_000)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  const sneaker = async () =>
    (await ok(core.call('generations.get', { generationId: gid }))).classes.find(
      (c) => c.className === 'Sneaker',
    )!

  it('reports, without writing, how accepting takes a class over its plan and its cap', async () => {
    expect((await sneaker()).planned).toBe(48)
    const r = await ok(
      core.call('samples.decide', {
        decisions: rejected.map((id) => ({ id, status: 'accepted' as const })),
        dryRun: true,
      }),
    )
    expect(r.updated).toBe(0)
    expect(r.classes).toEqual([
      {
        generationId: gid,
        className: 'Sneaker',
        classIndex: expect.any(Number) as number,
        real: 16,
        planned: 48,
        acceptedBefore: 48,
        acceptedAfter: 228,
        overPlan: 180,
        ratio: 228 / 16,
        maxRatio: 3,
        overCap: true,
      },
    ])
    expect((await sneaker()).accepted).toBe(48)
  })

  it('accepts only up to the plan, the best-scored first, and undoes exactly that', async () => {
    const accepted = (await ok(core.call('samples.ids', { generationId: gid, status: 'accepted' })))
      .ids
    await ok(
      core.call('samples.decide', {
        decisions: accepted.slice(0, 5).map((id) => ({ id, status: 'rejected' as const })),
      }),
    )
    expect((await sneaker()).accepted).toBe(43)
    const r = await ok(
      core.call('samples.decide', {
        decisions: rejected.map((id) => ({ id, status: 'accepted' as const })),
        limit: 'plan',
      }),
    )
    expect(r.updated).toBe(5)
    expect(r.previous).toHaveLength(5)
    expect(r.classes[0]).toMatchObject({ acceptedBefore: 43, acceptedAfter: 48, overPlan: 0 })
    expect((await sneaker()).accepted).toBe(48)
    // the five with the highest class confidence among the rejected ones
    const best = await ok(
      core.call('samples.list', {
        generationId: gid,
        status: 'reviewed',
        sort: 'confidence',
        order: 'desc',
        limit: 100,
      }),
    )
    const newlyAccepted = best.items.filter((s) => s.status === 'accepted')
    expect(newlyAccepted.map((s) => s.confidence)).toEqual([0.89, 0.89, 0.88, 0.88, 0.87])
  })

  it('a plain accept still does what it is asked, and says the class is over its plan', async () => {
    const r = await ok(
      core.call('samples.decide', {
        decisions: rejected.slice(0, 10).map((id) => ({ id, status: 'accepted' as const })),
      }),
    )
    expect(r.classes[0].overPlan).toBeGreaterThan(0)
    expect((await sneaker()).accepted).toBe(48 + r.classes[0].overPlan)
  })
})
