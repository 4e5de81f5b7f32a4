import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import {
  ARM_NAMES,
  bestArm,
  verdict,
  type ArmName,
  type ArmResult,
} from '../../../src/shared/evaluation'
import type { ExportSummary } from '../../../src/shared/export'
import { fakeGeneration } from '../helpers/fake-generation'
import { importAndWait, ok } from '../helpers/core'
import { tmp } from '../helpers/messy'
import { python } from './helpers'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

/** An arm's result as the check stores it, from its seeds' balanced accuracies. */
function arm(name: ArmName, seeds: number[], classes: string[]): ArmResult {
  const m = seeds.reduce((a, b) => a + b, 0) / seeds.length
  const sd = Math.sqrt(seeds.reduce((a, x) => a + (x - m) ** 2, 0) / (seeds.length - 1))
  return {
    name,
    balancedAccuracy: m,
    macroF1: m - 0.02,
    perClassRecall: Object.fromEntries(classes.map((c, i) => [c, Math.min(1, m + (i % 3) / 20)])),
    seeds,
    spread: sd,
  }
}

/**
 * Issue 19, item 3: an export of generations that were evaluated carries the check in its
 * report.html and applies its recommendation: `loss_weight` 0.5 for the synthetic images of a
 * generation whose check found half weight best, 1 for every other image.
 */
describe('an export of evaluated generations', () => {
  let home: string
  let outs: string
  let core: Core
  let datasetId = 0
  let halfGen = 0
  let fullGen = 0
  let plainGen = 0

  /** Stores a finished check of `generationId` as the evaluation supervisor does. */
  function evaluated(
    generationId: number,
    accuracies: Partial<Record<ArmName, number[]>>,
    status: 'completed' | 'failed' = 'completed',
  ): void {
    const ds = core.repo.get(datasetId)!
    const classes = ds.classes.map((c) => c.name)
    const id = core.evaluationsRepo.create({
      generationId,
      datasetId,
      seeds: 2,
      epochs: null,
      runExcludedHeldOut: true,
    })
    core.evaluationsRepo.setStarted(
      id,
      classes.map((c) => ({ class: c, count: c === 'Ankle_boot' ? 0 : 4 })),
      15,
    )
    const arms = ARM_NAMES.map((n) => arm(n, accuracies[n] ?? [0.6, 0.62], classes))
    core.evaluationsRepo.setArms(id, arms)
    if (status === 'completed')
      core.evaluationsRepo.finish(id, 'completed', {
        best: bestArm(arms).name,
        verdict: verdict(arms),
        seconds: 12,
      })
    else core.evaluationsRepo.finish(id, 'failed', { error: 'stopped' })
  }

  beforeAll(async () => {
    home = tmp('evaluated-export')
    outs = tmp('evaluated-export-out')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    const samples = (className: string, n: number) =>
      Array.from({ length: n }, () => ({
        className,
        status: 'accepted' as const,
        confidence: 0.9,
      }))
    halfGen = await fakeGeneration(core, datasetId, samples('Bag', 6))
    fullGen = await fakeGeneration(core, datasetId, samples('Sandal', 5))
    plainGen = await fakeGeneration(core, datasetId, samples('Shirt', 4))
    // half weight wins for the first generation
    evaluated(halfGen, { 'synthetic-half-weight': [0.8, 0.82], synthetic: [0.7, 0.72] })
    // the second: an older check found half weight best, the newest completed one plain
    // synthetic, and a failed one after it does not count
    evaluated(fullGen, { 'synthetic-half-weight': [0.9, 0.92] })
    evaluated(fullGen, { synthetic: [0.85, 0.86], 'synthetic-half-weight': [0.7, 0.71] })
    evaluated(fullGen, { 'synthetic-half-weight': [0.99, 0.99] }, 'failed')
  }, 60_000)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(outs, { recursive: true, force: true })
  })

  const exported = async (args: Record<string, unknown>): Promise<ExportSummary> => {
    const started = await ok(core.call('exports.start', { datasetId, ...args } as never))
    const e = await core.exports.settled(started.id)
    expect(e.error).toBeNull()
    return e
  }

  it('writes loss_weight last: 0.5 for synthetic images where half weight won, else 1', async () => {
    const out = join(outs, 'jsonl')
    const e = await exported({ out, metadata: 'jsonl' })
    const rows = readFileSync(join(out, 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(rows).toHaveLength(e.files)
    for (const r of rows) expect(Object.keys(r).at(-1)).toBe('loss_weight')
    const weights = (pick: (r: Record<string, unknown>) => boolean) => [
      ...new Set(rows.filter(pick).map((r) => r.loss_weight)),
    ]
    const from = (g: number) => (r: Record<string, unknown>) =>
      String(r.file_name).includes(`synthetic-g${g}-`)
    expect(weights(from(halfGen))).toEqual([0.5])
    expect(rows.filter(from(halfGen))).toHaveLength(6)
    expect(weights(from(fullGen))).toEqual([1])
    expect(weights(from(plainGen))).toEqual([1])
    expect(weights((r) => r.is_synthetic === false)).toEqual([1])
  })

  it('imagefolder loads the CSV with the new column as is', async () => {
    const out = join(outs, 'csv')
    const e = await exported({ out })
    const csv = readFileSync(join(out, 'metadata.csv'), 'utf8')
    expect(csv.split('\n')[0]).toBe(
      'file_name,label,original_label,split,is_synthetic,source,class_confidence,novelty,sha256,origin,source_image,loss_weight',
    )
    const hf = python('hf_imagefolder_rules.py', [out]) as {
      splits: Record<string, { rows: number }>
      problems: string[]
    }
    expect(hf.problems).toEqual([])
    expect(hf.splits.train.rows).toBe(e.files)
  })

  it("shows each evaluated generation's latest completed check in report.html", async () => {
    const out = join(outs, 'report')
    await exported({ out, include: 'synthetic' })
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    expect(html).toContain('<h2>Does it help?</h2>')
    const tables = [...html.matchAll(/<table data-testid="report-evaluation">(.*?)<\/table>/gs)]
    // two generations were evaluated, the third was not
    expect(tables).toHaveLength(2)
    expect(html).not.toContain(`<h3>Generation #${plainGen}</h3>`)
    for (const t of tables) expect([...t[1].matchAll(/<tr[^>]* data-arm=/g)]).toHaveLength(7)
    const [half, full] = tables.map((t) => t[1])
    expect(half).toMatch(/<tr class=best data-arm="synthetic-half-weight">/)
    expect(half).toContain('81.0% ± 1.4')
    expect(full).toMatch(/<tr class=best data-arm="synthetic">/)
    expect(html).toContain('Synthetic images help: Real + synthetic at half weight reaches 81.0%')
    expect(html).toContain('Scored on 36 held-out real images; Ankle_boot too small')
    expect(html).toMatch(/loss_weight<\/code> is 0.5 for this generation/)
  })
})
