import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import { ARM_NAMES, type EvaluationSummary } from '../../../src/shared/evaluation'
import type { GenerationSummary } from '../../../src/shared/generation'
import { ok } from '../helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from '../helpers/trained-sample'

const BIN = join(import.meta.dirname, '../../../bin/synthfold.js')

/** `synthfold evaluate` on the shipped sample: a short run, a loose generation, every arm. */
describe('synthfold evaluate (real process, sample dataset)', () => {
  let home = ''
  let generationId = 0
  let datasetId = 0
  beforeAll(async () => {
    const fixture = await trainedSample('evaluate-cli')
    home = fixture.home
    datasetId = fixture.datasetId
    const runId = fixture.runId
    const core = new Core({ home, shell: 'cli' })
    try {
      const done = new Promise<GenerationSummary>((resolve) => {
        const off = core.on('generation', (e) => {
          if (
            e.type === 'status' &&
            e.generation.id === generationId &&
            e.generation.status !== 'running'
          ) {
            off()
            resolve(e.generation)
          }
        })
      })
      generationId = (
        await ok(
          core.call('generations.start', {
            runId,
            maxRatio: 0.5,
            filters: { minConfidence: 0.01, nearCopy: 0, duplicate: 0 },
          }),
        )
      ).id
      expect((await done).status).toBe('completed')
    } finally {
      await core.close()
    }
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, SYNTHFOLD_HOME: home },
      encoding: 'utf8',
      timeout: 300_000,
    })
    const last = r.stdout.trim().split('\n').pop() ?? ''
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(last) }
  }

  it('--json prints every arm scored on the held-out split, the best and a verdict', () => {
    const r = cli('evaluate', String(generationId), '--seeds', '1', '--epochs', '1', '--json')
    expect(r.code, r.stderr).toBe(0)
    const e = r.json()
    expect(e).toMatchObject({ generationId, datasetId, status: 'completed' })
    // the sample's classes of 12 or more images hold 15% (at least 3) out; smaller ones none
    const held = Object.fromEntries(
      (e.heldOut as { class: string; count: number }[]).map((h) => [h.class, h.count]),
    )
    expect(held.Ankle_boot).toBe(0)
    expect(held['T-shirt_top']).toBe(12)
    expect((e.arms as { name: string }[]).map((a) => a.name)).toEqual([...ARM_NAMES])
    for (const a of e.arms) {
      expect(a.balancedAccuracy).toBeGreaterThan(0.1)
      expect(a.balancedAccuracy).toBeLessThanOrEqual(1)
      expect(a.seeds).toHaveLength(1)
      // per-class recall for the classes that hold images out, none for the others
      expect(Object.keys(a.perClassRecall).sort()).toEqual(
        Object.keys(held)
          .filter((k) => held[k] > 0)
          .sort(),
      )
    }
    expect(ARM_NAMES).toContain(e.best)
    expect(e.verdict).toMatch(/synthetic images/i)
    expect(e.seconds).toBeGreaterThan(0)
    expect(e.syntheticImages).toBeGreaterThan(0)
    expect(e.runExcludedHeldOut).toBe(true)
  }, 300_000)

  it('keeps its generation while it runs, and a cancel ends as cancelled', async () => {
    const core = new Core({ home, shell: 'cli' })
    try {
      let id = 0
      const ended = new Promise<EvaluationSummary>((resolve) => {
        const off = core.on('evaluation', (e) => {
          if (e.type === 'status' && e.evaluation.id === id && e.evaluation.status !== 'running') {
            off()
            resolve(e.evaluation)
          }
        })
      })
      id = (await ok(core.call('evaluations.start', { generationId, seeds: 3 }))).id
      const del = await core.call('generations.delete', { generationId })
      expect(del.ok).toBe(false)
      if (!del.ok) expect(del.error.code).toBe('conflict')
      await ok(core.call('evaluations.cancel', { evaluationId: id }))
      expect((await ended).status).toBe('cancelled')
      expect((await ok(core.call('generations.get', { generationId }))).id).toBe(generationId)
    } finally {
      await core.close()
    }
  }, 120_000)

  it('refuses to start while the dataset is being imported again', async () => {
    const core = new Core({ home, shell: 'cli' })
    try {
      core.db.prepare(`UPDATE datasets SET status = 'importing' WHERE id = ?`).run(datasetId)
      const r = await core.call('evaluations.start', { generationId, seeds: 1 })
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error.code).toBe('conflict')
        expect(r.error.message).toMatch(/being imported/)
      }
    } finally {
      core.db.prepare(`UPDATE datasets SET status = 'ready' WHERE id = ?`).run(datasetId)
      await core.close()
    }
  })

  it('refuses bad input with a message and a non-zero exit', () => {
    const usage = cli('evaluate')
    expect(usage.code).toBe(2)
    const missing = cli('evaluate', '9999', '--json')
    expect(missing.code).toBe(1)
    expect(missing.json().error.code).toBe('not_found')
    const seeds = cli('evaluate', String(generationId), '--seeds', '0', '--json')
    expect(seeds.code).toBe(1)
    expect(seeds.stderr).toMatch(/at least 1 seed/)
  })
})
