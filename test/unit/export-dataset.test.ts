import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { Core } from '../../src/core/core'
import { initBackend } from '../../src/core/accel/backend'
import { Generator } from '../../src/core/generation/generator'
import type { ExportSummary } from '../../src/shared/export'
import { ok } from './helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from './helpers/trained-sample'
import { tmp } from './helpers/messy'
import { python } from './export/helpers'

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

async function exported(core: Core, args: Parameters<Core['call']>[1]): Promise<ExportSummary> {
  const started = await ok(core.call('exports.start', args))
  return core.exports.settled(started.id)
}

describe('exporting a reviewed dataset (real sample data, real SQLite, real files)', () => {
  let home: string
  let outs: string
  let core: Core
  let datasetId = 0
  let runId = 0
  let synthetic = 0
  beforeAll(async () => {
    await initBackend('auto')
    ;({ home, datasetId, runId } = await trainedSample('export-dataset'))
    outs = tmp('export-out')
    core = new Core({ home, shell: 'cli' })
    let gid = 0
    const generated = new Promise<void>((resolve) =>
      core.on('generation', (e) => {
        if (e.type === 'status' && e.generation.id === gid && e.generation.status !== 'running')
          resolve()
      }),
    )
    gid = (
      await ok(
        core.call('generations.start', {
          runId,
          strategy: { kind: 'targets', targets: { Ankle_boot: 14, Bag: 15 } },
          filters: { minConfidence: 0, nearCopy: 0, duplicate: 0 },
        }),
      )
    ).id
    await generated
    // one sample rejected by a person: it must not be exported
    const ids = (await ok(core.call('samples.ids', { generationId: gid, status: 'accepted' }))).ids
    await ok(core.call('samples.decide', { decisions: [{ id: ids[0], status: 'rejected' }] }))
    synthetic = ids.length - 1
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(outs, { recursive: true, force: true })
  })

  it('writes an ImageFolder tree + manifest that PIL and the csv module read as the app says', async () => {
    const out = join(outs, 'plain')
    const e = await exported(core, { datasetId, out })
    expect(e.status).toBe('completed')
    expect(synthetic).toBe(6 + 3 - 1)
    const real = e.classes.reduce((a, c) => a + c.real, 0)
    expect(e.classes.reduce((a, c) => a + c.synthetic, 0)).toBe(synthetic)
    expect(e.files).toBe(real + synthetic)
    const folderOf = Object.fromEntries(e.classes.map((c) => [c.className, c.folder]))
    const found = python('imagefolder_check.py', [out, JSON.stringify(folderOf)]) as {
      classes: string[]
      per_label: Record<string, number>
      rows: number
      problems: string[]
    }
    expect(found.problems).toEqual([])
    expect(found.rows).toBe(e.files)
    expect(found.classes.sort()).toEqual(e.classes.map((c) => c.folder).sort())
    for (const c of e.classes) expect(found.per_label[c.className]).toBe(c.real + c.synthetic)
    // real images are the source files byte for byte; the manifest's sha256 is right (the same
    // export with JSON Lines metadata, for its exact types)
    const jsonl = await exported(core, {
      datasetId,
      out: join(outs, 'plain-jsonl'),
      metadata: 'jsonl',
    })
    expect(jsonl.status).toBe('completed')
    const rows = readFileSync(join(outs, 'plain-jsonl', 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            file_name: string
            is_synthetic: boolean
            source: string
            sha256: string
          },
      )
    const aReal = rows.find((r) => !r.is_synthetic)!
    expect(sha(join(out, aReal.file_name))).toBe(sha(aReal.source))
    expect(aReal.sha256).toBe(sha(aReal.source))
    const aSynth = rows.find((r) => r.is_synthetic)!
    expect(aSynth.source).toMatch(
      new RegExp(`^run:${runId}/checkpoint:(best|last)@\\d+/seed:\\d+$`),
    )
    const report = readFileSync(join(out, 'report.html'), 'utf8')
    expect(report).toContain('Class counts, before and after')
    expect(report).toContain('data:image/png;base64,')
    expect(existsSync(join(out, '.synthfold-export.json'))).toBe(false)
    const listed = await ok(core.call('exports.list', { datasetId }))
    expect(listed.find((x) => x.id === e.id)).toMatchObject({
      id: e.id,
      status: 'completed',
      files: e.files,
    })
  })

  it('splits real images (stratified, seeded), keeps synthetic in train, and zips it all', async () => {
    const out = join(outs, 'split')
    const e = await exported(core, { datasetId, out, splits: [0.8, 0.1, 0.1], zip: true })
    expect(e.status).toBe('completed')
    // one metadata file per split folder, paths relative to it (what imagefolder loads)
    expect(readdirSync(out).sort()).toEqual([
      'evaluation_split.json',
      'report.html',
      'test',
      'train',
      'val',
    ])
    // the dataset's evaluation split (set aside when the run started) is marked, every file of it
    const split = JSON.parse(readFileSync(join(out, 'evaluation_split.json'), 'utf8')) as {
      files: string[]
      counts: Record<string, number>
    }
    const ds = await ok(core.call('datasets.get', { id: datasetId }))
    expect(split.counts).toEqual(
      Object.fromEntries(ds.classes.filter((c) => c.heldOut > 0).map((c) => [c.name, c.heldOut])),
    )
    expect(split.files).toHaveLength(ds.classes.reduce((a, c) => a + c.heldOut, 0))
    // every one of them in test: a classifier trained on train (synthetic images included) is
    // tested on images no run, so no synthetic image, was made from
    for (const f of split.files) {
      expect(existsSync(join(out, f))).toBe(true)
      expect(f.startsWith('test/')).toBe(true)
    }
    const rows = (['train', 'val', 'test'] as const).flatMap((folder) =>
      readFileSync(join(out, folder, 'metadata.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','))
        .map(([file_name, , , split, synthetic]) => ({
          folder,
          file_name,
          split,
          is_synthetic: synthetic === 'true',
        })),
    )
    expect(rows).toHaveLength(e.files)
    expect(rows.filter((r) => r.is_synthetic).every((r) => r.split === 'train')).toBe(true)
    for (const r of rows) {
      expect(r.split).toBe(r.folder)
      expect(existsSync(join(out, r.folder, r.file_name))).toBe(true)
    }
    const val = rows.filter((r) => r.split === 'val').length
    expect(val).toBeGreaterThan(20)
    expect(val).toBeLessThan(50)
    expect(e.zipPath).toBe(`${out}.zip`)
    const listing = python('unzip.py', [e.zipPath!, join(outs, 'unzipped')]) as unknown
    expect(JSON.stringify(listing)).toContain('metadata.csv')
  })

  it('never writes into a folder that holds something, unless asked to merge, and then overwrites nothing', async () => {
    const out = join(outs, 'taken')
    mkdirSync(join(out, 'Bag'), { recursive: true })
    writeFileSync(join(out, 'notes.txt'), 'mine')
    const refused = await core.call('exports.start', { datasetId, out })
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.code).toBe('conflict')
    const e = await exported(core, { datasetId, out, merge: true, include: 'synthetic' })
    expect(e.status).toBe('completed')
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine')
    // a second merge of the same files is refused before anything is written
    const again = await exported(core, { datasetId, out, merge: true, include: 'synthetic' })
    expect(again.status).toBe('failed')
    expect(again.error).toMatch(/already exist|exists/)
  })

  it('exports the generator as a TensorFlow.js layers model that decodes like the app', async () => {
    const out = join(outs, 'generator')
    const r = await ok(core.call('runs.exportGenerator', { runId, out }))
    expect(r.files.map((f) => f.split('/').pop()).sort()).toEqual([
      'README.md',
      'decoder.weights.bin',
      'model.json',
      'synthfold-generator.json',
    ])
    const info = JSON.parse(readFileSync(join(out, 'synthfold-generator.json'), 'utf8')) as {
      classNames: string[]
      latentDim: number
    }
    expect(info.classNames).toContain('Bag')
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      modelTopology: object
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[]
    }
    const weights = readFileSync(join(out, 'decoder.weights.bin'))
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
      }),
    )
    const gen = Generator.load(join(home, 'runs', String(runId), 'best'))
    const [z] = gen.latentsForSeeds(1, [7], 1)
    const expected = gen.decode([z], [1])[0]
    const got = tf.tidy(() => {
      const logits = loaded.predict([
        tf.tensor2d(z, [1, info.latentDim]),
        tf.cast(tf.oneHot(tf.tensor1d([1], 'int32'), info.classNames.length), 'float32'),
      ]) as tf.Tensor
      return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32').dataSync()
    })
    expect(Array.from(got)).toEqual(Array.from(expected))
    gen.dispose()
    // a second export into the same folder is refused
    const again = await core.call('runs.exportGenerator', { runId, out })
    expect(again.ok).toBe(false)
    if (!again.ok) expect(again.error.message).toMatch(/not empty/)
  })

  it('the CLI generate and export commands print their documented JSON', () => {
    const cli = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, '../../bin/synthfold.js'), ...args],
        { env: { ...process.env, SYNTHFOLD_HOME: home }, encoding: 'utf8', timeout: 120_000 },
      )
      return {
        code: r.status,
        json: JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>,
      }
    }
    const g = cli(
      'generate',
      String(runId),
      '--strategy',
      'Sandal=30',
      '--max-ratio',
      'none',
      '--min-confidence',
      '0',
      '--json',
    )
    expect(g.code).toBe(0)
    expect(Object.keys(g.json).sort()).toEqual(
      [
        'accepted',
        'checkpoint',
        'classes',
        'classifierAccuracy',
        'error',
        'filters',
        'folder',
        'generated',
        'generationId',
        'note',
        'plan',
        'runId',
        'status',
        'temperature',
      ].sort(),
    )
    expect(g.json.plan).toContainEqual({
      class: 'Sandal',
      real: 27,
      toGenerate: 3,
      total: 30,
      capped: false,
    })
    const out = join(outs, 'cli')
    const e = cli('export', String(datasetId), '--out', out, '--include', 'real', '--json')
    expect(e.code).toBe(0)
    expect(e.json).toMatchObject({ status: 'completed', out, include: 'real', synthetic: 0 })
    expect(e.json.files).toBe(e.json.real)
    expect(existsSync(join(out, 'metadata.csv'))).toBe(true)
    const bad = cli('export', String(datasetId), '--out', out, '--json')
    expect(bad.code).toBe(1)
    expect(bad.json).toMatchObject({ error: { code: 'conflict' } })
  }, 240_000)
})
