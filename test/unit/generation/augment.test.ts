import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { Core } from '../../../src/core/core'
import { initBackend } from '../../../src/core/accel/backend'
import { readPng } from '../../../src/core/generation/generate'
import { applyTransform } from '../../../src/core/augment/transforms'
import type { GenerationSummary } from '../../../src/shared/generation'
import { ok } from '../helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from '../helpers/trained-sample'
import { tmp } from '../helpers/messy'

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

/** metadata.csv as Python's csv module reads it (what a training script would do). */
function readCsv(file: string): Record<string, string>[] {
  const py = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import csv,sys,json; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="")))))',
      file,
    ],
    { encoding: 'utf8' },
  )
  expect(py.status, py.stderr).toBe(0)
  return JSON.parse(py.stdout) as Record<string, string>[]
}

/**
 * Issue 18, item 5: classic augmentation for the classes a generator cannot learn, on the shipped
 * sample. A one-epoch run cannot draw a boot; augmentation of the class's 8 real images can.
 */
describe('classic augmentation as a generation mode (shipped sample)', () => {
  let home: string
  let outs: string
  let core: Core
  let datasetId = 0
  let gen: GenerationSummary
  beforeAll(async () => {
    await initBackend('auto')
    const fixture = await trainedSample('augment')
    home = fixture.home
    datasetId = fixture.datasetId
    const runId = fixture.runId
    outs = tmp('augment-out')
    core = new Core({ home, shell: 'cli' })
    let id = 0
    const done = generationDone(core, () => id)
    gen = await ok(
      core.call('generations.start', {
        runId,
        // Ankle_boot 8 real -> 24, Bag 12 real -> 36 (both augmented); Sandal from the generator
        strategy: { kind: 'targets', targets: { Ankle_boot: 24, Bag: 36, Sandal: 40 } },
        maxRatio: null,
        filters: { minConfidence: 0, nearCopy: 0.5 },
        augment: { classes: ['Ankle_boot', 'Bag'], flip: ['Ankle_boot'] },
      }),
    )
    id = gen.id
    gen = await done
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(outs, { recursive: true, force: true })
  })

  const cls = (name: string) => gen.classes.find((c) => c.className === name)!

  it('fills the augmented classes with reviewable samples marked source=augment', async () => {
    expect(gen.status).toBe('completed')
    expect(gen.augment).toEqual({ classes: ['Ankle_boot', 'Bag'], flip: ['Ankle_boot'] })
    expect(cls('Ankle_boot')).toMatchObject({ source: 'augment', planned: 16, accepted: 16 })
    expect(cls('Bag')).toMatchObject({ source: 'augment', planned: 24, accepted: 24 })
    expect(cls('Sandal').source).toBe('cvae')
    const images = await ok(core.call('datasets.images', { datasetId, limit: 2000 }))
    const classOfImage = new Map(images.items.map((i) => [i.id, i.relPath.split('/')[0]]))
    for (const name of ['Ankle_boot', 'Bag']) {
      const c = cls(name)
      // copies of real images are never near-copies or low-confidence by definition
      expect(c.filtered['near-copy'] + c.filtered['low-confidence']).toBe(0)
      const list = await ok(
        core.call('samples.list', { generationId: gen.id, classIndex: c.classIndex, limit: 500 }),
      )
      expect(list.total).toBe(c.generated)
      const sources = new Set<number>()
      for (const s of list.items) {
        expect(s.source).toBe('augment')
        expect(classOfImage.get(s.sourceImageId!)).toBe(name)
        if (s.status === 'accepted') sources.add(s.sourceImageId!)
      }
      // the copies are spread over every real image of the class outside the evaluation split
      // (a copy of a held-out image would leak it into training)
      const ds = await ok(core.call('datasets.get', { id: gen.datasetId }))
      const held = ds.classes.find((k) => k.name === name)!.heldOut
      expect(sources.size).toBe(c.real - held)
    }
    const sandal = await ok(
      core.call('samples.list', { generationId: gen.id, classIndex: cls('Sandal').classIndex }),
    )
    expect(sandal.items.every((s) => s.source === 'cvae' && s.sourceImageId === null)).toBe(true)
  })

  it('makes every augmented sample again from its source image and transform; mirrors only where allowed', async () => {
    const flips: Record<string, number> = { Ankle_boot: 0, Bag: 0 }
    for (const name of ['Ankle_boot', 'Bag']) {
      const list = await ok(
        core.call('samples.list', {
          generationId: gen.id,
          classIndex: cls(name).classIndex,
          status: 'accepted',
        }),
      )
      for (const item of list.items) {
        const s = await ok(core.call('samples.get', { sampleId: item.id }))
        expect(s.transform).not.toBeNull()
        if (s.transform!.flip) flips[name]++
        const media = await core.mediaByPath(`image/pixels/${s.sourceImageId}`)
        const source = new Uint8Array(
          await sharp(media!.body).toColourspace('b-w').raw().toBuffer(),
        )
        const again = applyTransform(source, 28, 1, s.transform!)
        const stored = await readPng(join(gen.folder, 'samples', s.file), 1)
        expect(Buffer.from(again).equals(Buffer.from(stored))).toBe(true)
      }
    }
    expect(flips.Bag).toBe(0)
    expect(flips.Ankle_boot).toBeGreaterThan(0)
  })

  it('goes through the same review: a rejected copy is replaced by a refill', async () => {
    const bag = cls('Bag')
    const { ids } = await ok(
      core.call('samples.ids', {
        generationId: gen.id,
        classIndex: bag.classIndex,
        status: 'accepted',
      }),
    )
    await ok(
      core.call('samples.decide', {
        decisions: ids.slice(0, 3).map((id) => ({ id, status: 'rejected' as const })),
      }),
    )
    const after = await ok(core.call('generations.get', { generationId: gen.id }))
    expect(after.classes[bag.classIndex].accepted).toBe(bag.planned - 3)
    const done = generationDone(core, () => gen.id)
    await ok(core.call('generations.refill', { generationId: gen.id, className: 'Bag' }))
    gen = await done
    expect(cls('Bag').accepted).toBe(bag.planned)
    const list = await ok(
      core.call('samples.list', { generationId: gen.id, classIndex: bag.classIndex, limit: 500 }),
    )
    expect(list.items.every((s) => s.source === 'augment')).toBe(true)
  }, 120_000)

  it('exports origin, is_synthetic and the source image in metadata.csv, and class weights on request', async () => {
    const out = join(outs, 'plain')
    const started = await ok(
      core.call('exports.start', { datasetId, out, generationIds: [gen.id], classWeights: true }),
    )
    const e = await core.exports.settled(started.id)
    expect(e.status).toBe('completed')
    const rows = readCsv(join(out, 'metadata.csv'))
    expect(Object.keys(rows[0])).toEqual([
      'file_name',
      'label',
      'original_label',
      'split',
      'is_synthetic',
      'source',
      'class_confidence',
      'novelty',
      'sha256',
      'origin',
      'source_image',
      'loss_weight',
    ])
    const of = (label: string, origin: string) =>
      rows.filter((r) => r.label === label && r.origin === origin)
    expect(of('Ankle_boot', 'augment')).toHaveLength(16)
    expect(of('Ankle_boot', 'real')).toHaveLength(8)
    expect(of('Bag', 'augment')).toHaveLength(24)
    expect(rows.filter((r) => r.origin === 'cvae').every((r) => r.label === 'Sandal')).toBe(true)
    const realSources = new Set(of('Ankle_boot', 'real').map((r) => r.source))
    for (const r of of('Ankle_boot', 'augment')) {
      expect(r.is_synthetic).toBe('true')
      expect(r.file_name).toMatch(/^Ankle_boot\/augmented-g\d+-s\d+\.png$/)
      // an augmented image names the real image it came from, as that row's source
      expect(realSources.has(r.source_image)).toBe(true)
      expect(existsSync(join(out, r.file_name))).toBe(true)
    }
    for (const r of rows.filter((r) => r.origin === 'real')) {
      expect(r.is_synthetic).toBe('false')
      expect(r.source_image).toBe(r.source)
    }
    const w = JSON.parse(readFileSync(join(out, 'class_weights.json'), 'utf8')) as {
      images: number
      weights: Record<string, number>
      weights_by_index: number[]
      classes: { label: string; folder: string; index: number; count: number }[]
    }
    expect(w.images).toBe(rows.length)
    const count = (label: string) => rows.filter((r) => r.label === label).length
    const k = w.classes.length
    expect(k).toBe(10)
    for (const c of w.classes) {
      expect(c.count).toBe(count(c.label))
      expect(w.weights[c.label]).toBeCloseTo(rows.length / (k * c.count), 10)
    }
    // ImageFolder's class order: folder names sorted
    expect(w.classes.map((c) => c.folder)).toEqual(w.classes.map((c) => c.folder).sort())
    expect(w.weights_by_index).toEqual(w.classes.map((c) => w.weights[c.label]))
    // the rarest class gets the largest weight
    const rarest = w.classes.reduce((a, b) => (b.count < a.count ? b : a))
    expect(Math.max(...w.weights_by_index)).toBe(w.weights[rarest.label])
  })

  it('with splits, leaves out copies of val and test images (they would leak into train)', async () => {
    const out = join(outs, 'splits')
    const started = await ok(
      core.call('exports.start', {
        datasetId,
        out,
        generationIds: [gen.id],
        splits: [0.6, 0.2, 0.2],
        classWeights: true,
      }),
    )
    const e = await core.exports.settled(started.id)
    expect(e.status).toBe('completed')
    const train = readCsv(join(out, 'train', 'metadata.csv'))
    const held = [
      ...readCsv(join(out, 'val', 'metadata.csv')),
      ...readCsv(join(out, 'test', 'metadata.csv')),
    ]
    const heldSources = new Set(held.map((r) => r.source_image))
    const copies = train.filter((r) => r.origin === 'augment')
    expect(copies.length).toBeGreaterThan(0)
    expect(copies.length).toBeLessThan(40)
    for (const r of copies) expect(heldSources.has(r.source_image)).toBe(false)
    expect(held.every((r) => r.origin === 'real')).toBe(true)
    // the report says how many copies it holds and how many it left out
    const left = 40 - copies.length
    const report = readFileSync(join(out, 'report.html'), 'utf8')
    expect(report).toContain(`(${copies.length} of them classic augmentations of real images)`)
    expect(report).toContain(`${left} augmented copies of val or test images left out`)
    const w = JSON.parse(readFileSync(join(out, 'class_weights.json'), 'utf8')) as {
      split: string
      images: number
    }
    expect(w).toMatchObject({ split: 'train', images: train.length })
  })
})
