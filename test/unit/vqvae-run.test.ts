import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { initBackend } from '../../src/core/accel/backend'
import { Generator } from '../../src/core/generation/generator'
import { readPng } from '../../src/core/generation/generate'
import type { GenerationSummary } from '../../src/shared/generation'
import type { RunSummary } from '../../src/shared/runs'
import type { AuditSummary } from '../../src/shared/audit'
import { loadAuditData } from '../../src/core/training/data-load'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

function runEnded(core: Core, id: () => number): Promise<RunSummary> {
  return new Promise((resolve) => {
    const off = core.on('run', (e) => {
      if (e.type === 'status' && e.run.id === id() && e.run.status !== 'running') {
        off()
        resolve(e.run)
      }
    })
  })
}

describe('a VQ-VAE run through the app core (real Fashion-MNIST sample)', () => {
  let home: string
  let core: Core
  let run: RunSummary
  const stages: string[] = []
  beforeAll(async () => {
    await initBackend('wasm')
    home = tmp('vq-run')
    core = new Core({ home, shell: 'cli' })
    const datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    // cancelled at its first prior epoch, then resumed: both stages, cancel and resume in the worker
    let runId = 0
    let cancelled = false
    const off = core.on('run', (e) => {
      if (e.type === 'progress' && e.progress.runId === runId && e.progress.stage)
        stages.push(e.progress.stage)
      if (e.type === 'epoch' && e.metrics.stage === 'prior' && !cancelled) {
        cancelled = true
        void core.call('runs.cancel', { runId })
      }
    })
    const stopped = runEnded(core, () => runId)
    run = await ok(
      core.call('runs.start', {
        datasetId,
        settings: {
          preset: 'fast',
          model: 'vqvae',
          epochs: 8,
          priorEpochs: 10,
          batchSize: 32,
          baseFilters: 16,
          vqCodebookSize: 32,
        },
      }),
    )
    runId = run.id
    run = await stopped
    expect([run.status, run.error]).toEqual(['cancelled', null])
    const done = runEnded(core, () => runId)
    await ok(core.call('runs.resume', { runId }))
    run = await done
    off()
  }, 300_000)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('trains the autoencoder, then the prior, with its own progress and per-epoch codebook figures', async () => {
    expect(run.status).toBe('completed')
    expect(run.epochsDone).toBe(18)
    expect(stages[0]).toBe('vq')
    expect(stages.at(-1)).toBe('prior')
    const { epochs } = await ok(core.call('runs.get', { runId: run.id }))
    expect(epochs.map((e) => e.stage)).toEqual([
      ...new Array(8).fill('vq'),
      ...new Array(10).fill('prior'),
    ])
    for (const e of epochs.slice(0, 8)) {
      expect(e.usedCodes).toBeGreaterThan(1)
      expect(e.perplexity).toBeGreaterThan(1)
    }
    // the prior learns: its validation loss (nats per code) ends below the first prior epoch's
    expect(epochs[17].valLoss!).toBeLessThan(epochs[8].valLoss!)
    // the best checkpoint is a prior epoch's (one to generate from)
    expect(run.checkpoints.find((c) => c.kind === 'best')!.epoch).toBeGreaterThan(8)
    expect(run.lastMetrics?.stage).toBe('prior')
  })

  it('generates through the filters and regenerates each sample from its seed', async () => {
    let id = 0
    const done = new Promise<GenerationSummary>((resolve) => {
      const off = core.on('generation', (e) => {
        if (e.type === 'status' && e.generation.id === id && e.generation.status !== 'running') {
          off()
          resolve(e.generation)
        }
      })
    })
    const started = await ok(
      core.call('generations.start', {
        runId: run.id,
        maxRatio: 2,
        temperature: 1,
        filters: { minConfidence: 0.05, duplicate: 0.25, nearCopy: 0.5 },
      }),
    )
    id = started.id
    const gen = await done
    expect(gen.status).toBe('completed')
    const list = await ok(core.call('samples.list', { generationId: gen.id, limit: 500 }))
    expect(list.total).toBeGreaterThan(0)
    const g = Generator.load(join(gen.folder, 'checkpoint'))
    for (const item of list.items.slice(0, 6)) {
      const s = await ok(core.call('samples.get', { sampleId: item.id }))
      expect(s.latent).toHaveLength(49)
      const stored = await readPng(join(gen.folder, 'samples', s.file), 1)
      const [grid] = g.latentsForSeeds(s.classIndex, [s.seed], s.provenance.temperature)
      expect(Array.from(grid)).toEqual(s.latent)
      const [again] = g.decode([grid], [s.classIndex])
      expect(Buffer.from(again).equals(Buffer.from(stored))).toBe(true)
    }
    g.dispose()
  }, 180_000)

  it('exports the generator: decoder, codebook and the prior’s weights as its manifest lists', async () => {
    const out = join(home, 'generator')
    const r = await ok(core.call('runs.exportGenerator', { runId: run.id, out }))
    expect(r.files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'README.md',
      'decoder.weights.bin',
      'model.json',
      'prior.weights.bin',
      'synthfold-generator.json',
    ])
    const info = JSON.parse(readFileSync(join(out, 'synthfold-generator.json'), 'utf8'))
    expect(info).toMatchObject({ family: 'vqvae', grid: 7, imageSize: 28 })
    expect(info.codebook).toHaveLength(32)
    expect(info.codebook[0]).toHaveLength(16)
    const floats = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
    const priorBytes = readFileSync(join(out, 'prior.weights.bin')).length
    expect(priorBytes).toBe(
      4 * info.prior.tensors.reduce((n: number, t: { shape: number[] }) => n + floats(t.shape), 0),
    )
    expect(info.prior.tensors[0]).toMatchObject({ name: 'embedding', shape: [32, 16] })
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))
    const specs = model.weightsManifest[0].weights as { shape: number[] }[]
    expect(readFileSync(join(out, 'decoder.weights.bin')).length).toBe(
      4 * specs.reduce((n, w) => n + floats(w.shape), 0),
    )
  })

  it('audits through its codes: the bound under the given label beats the others, and the list is complete', async () => {
    let id = 0
    const done = new Promise<AuditSummary>((resolve) => {
      const off = core.on('audit', (e) => {
        if (e.type === 'status' && e.audit.id === id && e.audit.status !== 'running') {
          off()
          resolve(e.audit)
        }
      })
    })
    id = (await ok(core.call('audits.start', { runId: run.id }))).id
    const audit = await done
    expect([audit.status, audit.error]).toEqual(['completed', null])
    const list = await ok(core.call('audits.images', { auditId: audit.id, limit: 50 }))
    expect(audit.images).toBe(356)
    expect(list.total).toBe(356)
    expect(list.items.every((r) => Number.isFinite(r.labelErrorScore))).toBe(true)

    // the VQ view alone: reconstruction through the class-conditional decoder plus the prior's
    // -log p(codes | y), under every class, for images of four classes
    const g = Generator.load(core.runsRepo.checkpoint(run.id, 'best')!.path)
    const k = g.classNames.length
    const data = loadAuditData(core.db, home, run.datasetId, g.classNames)
    const record = data.size * data.size * data.channels
    const images: Uint8Array[] = []
    const labels: number[] = []
    for (let i = 0; i < data.count; i += 6) {
      images.push(data.pixels.subarray(i * record, (i + 1) * record))
      labels.push(data.labels[i])
    }
    const pairs: number[] = []
    images.forEach((_, i) => {
      for (let c = 0; c < k; c++) pairs.push(i, c)
    })
    const s = g.scoreLabels(images, Int32Array.from(pairs))
    let right = 0
    let priorSpread = 0
    images.forEach((_, i) => {
      const nll = Array.from({ length: k }, (_, c) => s.reconstruction[i * k + c] + s.kl[i * k + c])
      if (nll.indexOf(Math.min(...nll)) === labels[i]) right++
      const rates = Array.from(s.kl.subarray(i * k, (i + 1) * k))
      priorSpread += Math.max(...rates) - Math.min(...rates)
      // the latent of every pair is the image's code grid, the same under every label
      expect(Array.from(s.latents.subarray(i * k * 49, i * k * 49 + 49))).toEqual(
        Array.from(s.latents.subarray((i * k + 1) * 49, (i * k + 1) * 49 + 49)),
      )
    })
    // chance is 1 in 10; a model that ignored the label would score the same under all of them
    expect(right / images.length).toBeGreaterThan(0.5)
    expect(priorSpread / images.length).toBeGreaterThan(1)
    g.dispose()
  }, 180_000)

  it('the studio refuses latent sliders with a message that points to region resampling', async () => {
    const dims = await core.call('studio.dimensions', { runId: run.id, class: 0 })
    expect(dims.ok).toBe(false)
    if (!dims.ok) expect(dims.error.message).toMatch(/resample a region of its code grid/)
  })

  it('the studio maps its code grids, interpolates valid grids and resamples a region', async () => {
    const map = await ok(core.call('studio.map', { runId: run.id, method: 'pca', wait: true }))
    if (map.status !== 'ready') throw new Error('the map did not wait')
    const pts = map.map.real
    expect(pts.ids.length).toBe(356)
    expect(pts.x.every(Number.isFinite) && pts.y.every(Number.isFinite)).toBe(true)
    // a map of code grids separates classes: the spread of the class centres is not nil
    const cx = (c: number) => {
      const xs = pts.x.filter((_, i) => pts.classIndex[i] === c)
      return xs.reduce((a, b) => a + b, 0) / xs.length
    }
    const centres = [0, 1, 2, 3].map(cx)
    expect(Math.max(...centres) - Math.min(...centres)).toBeGreaterThan(0)

    const [a, b] = [pts.ids[0], pts.ids[200]]
    const strip = await ok(
      core.call('studio.interpolate', {
        runId: run.id,
        from: { imageId: a },
        to: { imageId: b },
        steps: 5,
      }),
    )
    expect(strip.images).toHaveLength(5)
    expect(strip.t[0]).toBe(0)
    expect(strip.t[4]).toBe(1)
    // the strip's ends are the endpoints' reconstructions: their code grids, decoded
    const ends = await ok(core.call('studio.codes', { runId: run.id, source: { imageId: a } }))
    expect(strip.images[0].pixels).toBe(ends.image.pixels)

    const region = { row: 2, col: 2, rows: 3, cols: 3 }
    const req = { runId: run.id, source: { imageId: a }, region, temperature: 1, seed: 5, count: 3 }
    const r = await ok(core.call('studio.resample', req))
    expect(r.grids).toHaveLength(3)
    expect(r.images).toHaveLength(3)
    const g = r.grid
    let changed = 0
    for (const grid of r.grids)
      for (let i = 0; i < g * g; i++) {
        const [row, col] = [Math.floor(i / g), i % g]
        const inside = row >= 2 && row < 5 && col >= 2 && col < 5
        if (!inside) expect(grid[i]).toBe(ends.codes[i])
        else if (grid[i] !== ends.codes[i]) changed++
      }
    expect(changed).toBeGreaterThan(0)
    const again = await ok(core.call('studio.resample', req))
    expect(again.images.map((i) => i.pixels)).toEqual(r.images.map((i) => i.pixels))
    const outside = await core.call('studio.resample', {
      ...req,
      region: { row: g - 1, col: 0, rows: 2, cols: 1 },
    })
    expect(outside.ok).toBe(false)
  }, 180_000)
})
