import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import * as tf from '@tensorflow/tfjs-core'
import { Core } from '../../../src/core/core'
import { Generator } from '../../../src/core/generation/generator'
import { initBackend } from '../../../src/core/accel/backend'
import { loadTrainingData } from '../../../src/core/training/data-load'
import type { StudioEvent, StudioImage } from '../../../src/shared/studio'
import type { GenerationSummary } from '../../../src/shared/generation'
import { ok } from '../helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from '../helpers/trained-sample'

const BIN = join(import.meta.dirname, '../../../bin/synthfold.js')
const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

const pixels = (im: StudioImage) => Uint8Array.from(Buffer.from(im.pixels, 'base64'))
const maxDiff = (a: Uint8Array, b: Uint8Array) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** The latent studio on the shipped sample: one short run, then every studio method and the CLI. */
describe('the latent studio (real ML process, sample dataset)', () => {
  let home = ''
  let core: Core
  let datasetId = 0
  let runId = 0
  beforeAll(async () => {
    ;({ home, datasetId, runId } = await trainedSample('studio'))
    core = new Core({ home, shell: 'cli' })
    await initBackend('auto')
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(async () => {
    await core?.close()
    rmSync(home, { recursive: true, force: true })
  })

  it("decodes an interpolation's endpoints to the endpoints' reconstructions", async () => {
    const images = (await ok(core.call('datasets.images', { datasetId, limit: 2000 }))).items
    const run = (await ok(core.call('runs.get', { runId }))).run
    const data = loadTrainingData(core.db, home, datasetId, 'include')
    // two images of different classes: the label moves along the strip too
    const first = images[0]
    const other = images.find((im) => im.classId !== first.classId)!
    const out = join(home, 'strip')
    const r = await ok(
      core.call('studio.interpolate', {
        runId,
        from: { imageId: first.id },
        to: { path: other.relPath },
        steps: 6,
        path: 'spherical',
        outDir: out,
      }),
    )
    expect(r.images).toHaveLength(6)
    expect(r.t[0]).toBe(0)
    expect(r.t[5]).toBe(1)
    expect(r.files).toHaveLength(6)
    expect(readdirSync(out)).toHaveLength(6)

    const ck = core.runsRepo.checkpoint(runId, 'best')!
    const gen = Generator.load(ck.path)
    try {
      const rec = (id: number) => {
        const i = data.ids.indexOf(id)
        const record = data.size * data.size * data.channels
        const img = data.pixels.slice(i * record, (i + 1) * record)
        const c = run.classNames.indexOf(data.classNames[data.labels[i]])
        return { c, px: gen.reconstruct([img], [c])[0] }
      }
      const a = rec(first.id)
      const b = rec(other.id)
      expect(r.classes).toEqual([a.c, b.c])
      // the same backend and weights: equal up to one level of rounding
      expect(maxDiff(pixels(r.images[0]), a.px)).toBeLessThanOrEqual(1)
      expect(maxDiff(pixels(r.images[5]), b.px)).toBeLessThanOrEqual(1)
      // and the middle of the strip is neither end
      expect(maxDiff(pixels(r.images[3]), a.px)).toBeGreaterThan(10)
      expect(maxDiff(pixels(r.images[3]), b.px)).toBeGreaterThan(10)
      // the studio's model calls leave no tensor behind
      const img = data.pixels.slice(0, data.size * data.size * data.channels)
      gen.encodeFull([img], [0])
      gen.classifierFeatures([img])
      gen.decodeMixed(
        [new Float32Array(gen.meta.shape.latentDim)],
        [new Float32Array(gen.meta.shape.classes).fill(0.1)],
      )
      const tensors = tf.memory().numTensors
      for (let k = 0; k < 3; k++) {
        gen.encodeFull([img], [0])
        gen.classifierFeatures([img])
        gen.decodeMixed(
          [new Float32Array(gen.meta.shape.latentDim)],
          [new Float32Array(gen.meta.shape.classes).fill(0.1)],
        )
      }
      expect(tf.memory().numTensors).toBe(tensors)
      // the PNGs hold the strip's pixels
      const png = await sharp(r.files[0]).toColourspace('b-w').raw().toBuffer()
      expect(maxDiff(new Uint8Array(png), pixels(r.images[0]))).toBe(0)
    } finally {
      gen.dispose()
    }
    // an occupied folder is refused, and so is an unknown image
    const again = await core.call('studio.interpolate', {
      runId,
      from: { class: 0 },
      to: { class: 1 },
      outDir: out,
    })
    expect(again.ok).toBe(false)
    const missing = await core.call('studio.interpolate', {
      runId,
      from: { path: 'no/such.png' },
      to: { class: 1 },
    })
    expect(!missing.ok && missing.error.code).toBe('not_found')
  }, 120_000)

  it('maps every real image, with progress events, and answers the next call from the cache', async () => {
    const events: StudioEvent[] = []
    const off = core.on('studio', (e) => events.push(e))
    const first = await ok(core.call('studio.map', { runId, method: 'pca' }))
    expect(first.status).toBe('computing')
    const jobId = first.status === 'computing' ? first.jobId : ''
    const done = await ok(core.call('studio.map', { runId, method: 'pca', wait: true }))
    off()
    expect(done.status).toBe('ready')
    const map = done.status === 'ready' ? done.map : null
    const total = core.repo.get(datasetId)!.classes.reduce((s, c) => s + c.count, 0)
    expect(map!.real.ids).toHaveLength(total)
    expect(new Set(map!.real.ids).size).toBe(total)
    expect(map!.real.x.every(Number.isFinite) && map!.real.y.every(Number.isFinite)).toBe(true)
    // a real spread, not a point
    const spread = Math.max(...map!.real.x) - Math.min(...map!.real.x)
    expect(spread).toBeGreaterThan(0.1)
    expect(
      events.some((e) => e.type === 'progress' && e.jobId === jobId && e.phase === 'encoding'),
    ).toBe(true)
    await new Promise((r) => setTimeout(r, 50))
    expect(events.some((e) => e.type === 'done' && e.jobId === jobId)).toBe(true)
    const cached = await ok(core.call('studio.map', { runId, method: 'pca' }))
    expect(cached.status).toBe('ready')
    if (cached.status === 'ready') expect(cached.map.real.x).toEqual(map!.real.x)
  }, 120_000)

  it("cancels a map job, and places a generation's samples on the same map", async () => {
    const events: StudioEvent[] = []
    const off = core.on('studio', (e) => events.push(e))
    const first = await ok(core.call('studio.map', { runId, method: 'umap' }))
    expect(first.status).toBe('computing')
    const jobId = first.status === 'computing' ? first.jobId : ''
    expect((await ok(core.call('studio.cancel', { jobId }))).cancelled).toBe(true)
    await expect
      .poll(() => events.find((e) => e.jobId === jobId && e.type !== 'progress')?.type)
      .toBe('cancelled')
    off()
    // nothing was stored: the next call computes it again
    const again = await ok(core.call('studio.map', { runId, method: 'umap' }))
    expect(again.status).toBe('computing')
    if (again.status === 'computing') await ok(core.call('studio.cancel', { jobId: again.jobId }))

    const ended = new Promise<GenerationSummary>((resolve) => {
      const stop = core.on('generation', (e) => {
        if (e.type === 'status' && e.generation.status !== 'running') {
          stop()
          resolve(e.generation)
        }
      })
    })
    const started = await ok(
      core.call('generations.start', {
        runId,
        maxRatio: 0.3,
        filters: { minConfidence: 0.01, nearCopy: 0, duplicate: 0 },
      }),
    )
    const gen = await ended
    expect(gen.status).toBe('completed')
    const accepted = (
      await ok(core.call('samples.ids', { generationId: started.id, status: 'accepted' }))
    ).ids
    expect(accepted.length).toBeGreaterThan(0)
    const plain = await ok(core.call('studio.map', { runId, method: 'pca', wait: true }))
    const withSamples = await ok(
      core.call('studio.map', { runId, method: 'pca', generationId: started.id, wait: true }),
    )
    if (plain.status !== 'ready' || withSamples.status !== 'ready') throw new Error('not ready')
    // the real images stay where they were; every accepted sample is placed, by its sample id
    expect(withSamples.map.real.x).toEqual(plain.map.real.x)
    expect(withSamples.map.synthetic!.generationId).toBe(started.id)
    expect([...withSamples.map.synthetic!.ids].sort((a, b) => a - b)).toEqual(
      [...accepted].sort((a, b) => a - b),
    )
    expect(withSamples.map.synthetic!.x.every(Number.isFinite)).toBe(true)
    const other = await core.call('studio.map', { runId, generationId: 999 })
    expect(!other.ok && other.error.code).toBe('not_found')
  }, 180_000)

  it('answers a decode while a map is being computed', async () => {
    const ends: StudioEvent[] = []
    const off = core.on('studio', (e) => e.type !== 'progress' && ends.push(e))
    const started = await ok(core.call('studio.map', { runId, method: 'umap' }))
    expect(started.status).toBe('computing')
    const dims = await ok(core.call('studio.dimensions', { runId, class: 1, count: 2 }))
    const dec = await ok(core.call('studio.decode', { runId, class: 1, latents: [dims.base] }))
    expect(dec.images).toHaveLength(1)
    // the map is still running: the slider did not wait for it
    expect(ends).toEqual([])
    const done = await ok(core.call('studio.map', { runId, method: 'umap', wait: true }))
    expect(done.status).toBe('ready')
    off()
  }, 120_000)

  it('places classifier features by UMAP', async () => {
    const r = await ok(
      core.call('studio.map', { runId, method: 'umap', features: 'classifier', wait: true }),
    )
    expect(r.status).toBe('ready')
    if (r.status !== 'ready') return
    expect(r.map.features).toBe('classifier')
    expect(r.map.real.x.every(Number.isFinite)).toBe(true)
    expect(new Set(r.map.real.x.map((x) => x.toFixed(3))).size).toBeGreaterThan(
      r.map.real.x.length / 2,
    )
  }, 180_000)

  it('ranks dimensions, decodes slider positions and lays out a traversal grid', async () => {
    const dims = await ok(core.call('studio.dimensions', { runId, class: 0, count: 3 }))
    expect(dims.dims).toHaveLength(3)
    expect(dims.dims[0].kl).toBeGreaterThanOrEqual(dims.dims[1].kl)
    const base = dims.base
    const moved = [...base]
    moved[dims.dims[0].index] += 3 * Math.max(dims.dims[0].sd, 0.5)
    const dec = await ok(core.call('studio.decode', { runId, class: 0, latents: [base, moved] }))
    expect(dec.images).toHaveLength(2)
    expect(maxDiff(pixels(dec.images[0]), pixels(dec.images[1]))).toBeGreaterThan(0)
    const grid = await ok(
      core.call('studio.traverse', {
        runId,
        class: 0,
        base,
        dims: dims.dims,
        values: [-3, -1.5, 0, 1.5, 3],
      }),
    )
    expect(grid.rows).toHaveLength(3)
    expect(grid.rows.every((row) => row.length === 5)).toBe(true)
    // the middle column is the base code: the same image in every row
    for (const row of grid.rows)
      expect(maxDiff(pixels(row[2]), pixels(dec.images[0]))).toBeLessThanOrEqual(1)
    const wrong = await core.call('studio.decode', { runId, class: 0, latents: [[1, 2]] })
    expect(!wrong.ok && wrong.error.code).toBe('invalid_argument')
  }, 120_000)

  it('the CLI writes a map as CSV and PNG, and an interpolation as PNGs', async () => {
    await core.close()
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], {
        env: { ...process.env, SYNTHFOLD_HOME: home },
        encoding: 'utf8',
        timeout: 180_000,
      })
      const last = r.stdout.trim().split('\n').pop() ?? ''
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(last) }
    }
    try {
      const csv = join(home, 'map.csv')
      const m = cli('map', String(runId), '--method', 'pca', '--out', csv, '--json')
      expect(m.code, m.stderr).toBe(0)
      const j = m.json()
      expect(j).toMatchObject({
        runId,
        method: 'pca',
        features: 'latent',
        format: 'csv',
        out: csv,
        synthetic: 0,
      })
      const lines = readFileSync(csv, 'utf8').trim().split('\n')
      expect(lines[0]).toBe('kind,id,path,class,x,y')
      expect(lines).toHaveLength(j.points + 1)
      const row = lines[1].split(',')
      expect(row[0]).toBe('real')
      expect(existsSync(join(SAMPLE, row[2]))).toBe(true)
      expect(j.classes).toContain(row[3])
      expect(Number.isFinite(Number(row[4])) && Number.isFinite(Number(row[5]))).toBe(true)

      const png = join(home, 'map.png')
      const p = cli('map', String(runId), '--out', png, '--json')
      expect(p.code, p.stderr).toBe(0)
      const meta = await sharp(png).metadata()
      expect([meta.width, meta.height]).toEqual([1024, 1024])
      // never overwrites
      expect(cli('map', String(runId), '--out', png, '--json').code).not.toBe(0)
      const bad = cli('map', String(runId), '--out', join(home, 'map.txt'))
      expect(bad.code).toBe(2)

      const classes: string[] = j.classes
      const dir = join(home, 'cli-strip')
      const i = cli(
        'interpolate',
        String(runId),
        '--from',
        classes[0],
        '--to',
        classes[1],
        '--steps',
        '5',
        '--out',
        dir,
        '--json',
      )
      expect(i.code, i.stderr).toBe(0)
      const ij = i.json()
      expect(ij).toMatchObject({
        runId,
        steps: 5,
        from: { class: classes[0] },
        to: { class: classes[1] },
      })
      expect(ij.files).toHaveLength(5)
      expect(readdirSync(dir).sort()).toEqual(
        ij.files.map((f: string) => f.slice(dir.length + 1)).sort(),
      )
      const fromPath = lines[1].split(',')[2]
      const dir2 = join(home, 'cli-strip-2')
      const k = cli(
        'interpolate',
        String(runId),
        '--from',
        fromPath,
        '--to',
        classes[2],
        '--out',
        dir2,
        '--json',
      )
      expect(k.code, k.stderr).toBe(0)
      expect(k.json().from).toMatchObject({ path: fromPath, class: row[3] })
      expect(k.json().files).toHaveLength(8)
      const nope = cli(
        'interpolate',
        String(runId),
        '--from',
        'nope.png',
        '--to',
        classes[1],
        '--out',
        join(home, 'x'),
        '--json',
      )
      expect(nope.code).toBe(1)
      expect(nope.json().error.code).toBe('not_found')
      expect(nope.stderr).not.toMatch(/\n\s+at /)
    } finally {
      core = new Core({ home, shell: 'cli' })
    }
  }, 240_000)

  it('refuses a model family with no continuous latent, with a clear message', async () => {
    const ck = core.runsRepo.checkpoint(runId, 'best')!
    const file = join(ck.path, 'checkpoint.json')
    const meta = JSON.parse(readFileSync(file, 'utf8'))
    writeFileSync(file, JSON.stringify({ ...meta, settings: { ...meta.settings, model: 'vqvae' } }))
    const r = await core.call('studio.dimensions', { runId, class: 0 })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('unsupported')
      expect(r.error.message).toMatch(/vqvae run has no continuous latent space/)
    }
  })
})
