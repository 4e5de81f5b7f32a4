import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../../src/core/core'
import type { ExportSummary } from '../../../src/shared/export'
import { fakeGeneration } from '../helpers/fake-generation'
import { importAndWait, ok } from '../helpers/core'
import { tmp } from '../helpers/messy'
import { python } from './helpers'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

interface Batches {
  error?: string
  [split: string]: { images: number; batches: number; shapes: number[][] } | string | undefined
}
interface HfView {
  splits: Record<string, { rows: number; labels: Record<string, number> }>
  problems: string[]
}

/**
 * Issue 16, items 15 and 16: an export read by the code people train with. torchvision's
 * ImageFolder + DataLoader must batch it (one image size throughout), and Hugging Face's
 * imagefolder must load its metadata as is (one format, one metadata file per split).
 */
describe('an export read by torchvision and by the imagefolder rules', () => {
  let home: string
  let outs: string
  let core: Core
  let datasetId = 0
  let generationId = 0
  beforeAll(async () => {
    home = tmp('consumers')
    outs = tmp('consumers-out')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    generationId = await fakeGeneration(core, datasetId, [
      ...Array.from({ length: 10 }, (_, i) => ({
        className: 'Bag',
        status: 'accepted' as const,
        confidence: 0.9 + i / 100,
        novelty: 1.5,
      })),
      ...Array.from({ length: 5 }, () => ({
        className: 'Sandal',
        status: 'accepted' as const,
        confidence: 0.97,
        novelty: 1.25,
      })),
    ])
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

  it('upscaled synthetic images come with real images at the same size: DataLoader batches it', async () => {
    const out = join(outs, 'upscaled')
    const e = await exported({
      out,
      upscale: { size: 56, method: 'nearest' },
      generationIds: [generationId],
    })
    const found = python('torch_batches.py', [out]) as Batches
    expect(found.error).toBeUndefined()
    const all = found.all as { images: number; batches: number; shapes: number[][] }
    expect(all.images).toBe(e.files)
    expect(all.batches).toBe(Math.ceil(e.files / 8))
    expect(all.shapes).toEqual([[3, 56, 56]])
  })

  it('with splits, every split batches at one size', async () => {
    const out = join(outs, 'upscaled-splits')
    await exported({ out, splits: [0.8, 0.1, 0.1], upscale: { size: 56, method: 'lanczos3' } })
    const found = python('torch_batches.py', [out]) as Batches
    expect(found.error).toBeUndefined()
    for (const split of ['train', 'val', 'test'])
      expect((found[split] as { shapes: number[][] }).shapes).toEqual([[3, 56, 56]])
  })

  it('"real images as is" says the sizes are mixed, in the preview and the report', async () => {
    const preview = await ok(
      core.call('exports.preview', {
        datasetId,
        include: 'accepted',
        upscale: { size: 56, method: 'nearest' },
        realImages: 'as-is',
      }),
    )
    expect(preview.mixedSizes).toEqual({ real: [28], synthetic: 56 })
    const out = join(outs, 'as-is')
    await exported({ out, upscale: { size: 56, method: 'nearest' }, realImages: 'as-is' })
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Mixed sizes')
  })

  it('imagefolder loads it as is: one metadata.csv, every image listed, labels from it', async () => {
    const out = join(outs, 'hf-plain')
    const e = await exported({ out })
    expect(readdirSync(out).filter((f) => f.startsWith('metadata'))).toEqual(['metadata.csv'])
    const hf = python('hf_imagefolder_rules.py', [out]) as HfView
    expect(hf.problems).toEqual([])
    expect(hf.splits.train.rows).toBe(e.files)
    expect(hf.splits.train.labels.Bag).toBe(12 + 10)
  })

  it('with splits, imagefolder finds one metadata file per split folder and loses nothing', async () => {
    const out = join(outs, 'hf-splits')
    const e = await exported({ out, splits: [0.8, 0.1, 0.1] })
    for (const split of ['train', 'val', 'test'])
      expect(existsSync(join(out, split, 'metadata.csv')), split).toBe(true)
    expect(existsSync(join(out, 'metadata.csv'))).toBe(false)
    const hf = python('hf_imagefolder_rules.py', [out]) as HfView
    expect(hf.problems).toEqual([])
    const rows = Object.values(hf.splits).reduce((a, s) => a + s.rows, 0)
    expect(rows).toBe(e.files)
    expect(Object.keys(hf.splits).sort()).toEqual(['test', 'train', 'validation'])
  })

  it('JSON Lines on request, alone', async () => {
    const out = join(outs, 'hf-jsonl')
    const e = await exported({ out, metadata: 'jsonl' })
    expect(readdirSync(out).filter((f) => f.startsWith('metadata'))).toEqual(['metadata.jsonl'])
    const hf = python('hf_imagefolder_rules.py', [out]) as HfView
    expect(hf.problems).toEqual([])
    expect(hf.splits.train.rows).toBe(e.files)
  })
})
