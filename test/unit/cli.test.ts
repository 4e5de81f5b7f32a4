import { afterAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmp } from './helpers/messy'

/**
 * The CLI's commands, flags and --json outputs are a public interface (people script against
 * them): run the real `bin/synthfold.js` on the bundled sample dataset and check each documented
 * JSON object, the exit codes and Ctrl-C.
 */
const BIN = join(import.meta.dirname, '../../bin/synthfold.js')
const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

describe('the synthfold CLI (real process, sample dataset)', () => {
  const home = tmp('cli')
  afterAll(() => rmSync(home, { recursive: true, force: true }))
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, SYNTHFOLD_HOME: home },
      encoding: 'utf8',
      timeout: 180_000,
    })
    const last = r.stdout.trim().split('\n').pop() ?? ''
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(last) }
  }
  let datasetId = 0
  let runId = 0

  it('import --json prints the dataset id, classes with counts, imported count and skipped files', () => {
    const r = cli('import', SAMPLE, '--name', 'Sample', '--json')
    expect(r.code, r.stderr).toBe(0)
    const s = r.json()
    expect(s).toMatchObject({ name: 'Sample', imported: 356, cancelled: false })
    expect(s.classes).toHaveLength(10)
    expect(s.classes.reduce((a: number, c: { count: number }) => a + c.count, 0)).toBe(356)
    for (const c of s.classes) expect(Object.keys(c).sort()).toEqual(['count', 'name'])
    expect(s.skipped.length).toBeGreaterThan(0)
    for (const f of s.skipped) {
      expect(Object.keys(f).sort()).toEqual(['path', 'reason'])
      expect(f.reason.length).toBeGreaterThan(5)
    }
    datasetId = s.datasetId
    expect(datasetId).toBeGreaterThan(0)
    // importing the same folder again updates the same dataset
    const again = cli('import', SAMPLE, '--json').json()
    expect(again).toMatchObject({ datasetId, added: 0, imported: 356 })
    expect(again.unchanged).toBe(356 + s.skipped.length)
  })

  it('datasets --json lists it; bad input exits non-zero with a message and no stack', () => {
    const { datasets } = cli('datasets', '--json').json()
    expect(datasets.map((d: { id: number }) => d.id)).toEqual([datasetId])
    expect(datasets[0]).toMatchObject({ imageCount: 356, classCount: 10, status: 'ready' })
    const missing = cli('import', join(home, 'nope'), '--json')
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/not found/i)
    expect(missing.stderr).not.toMatch(/\n\s+at /)
    const usage = cli('train')
    expect(usage.code).not.toBe(0)
    expect(usage.stderr).toMatch(/dataset/)
  })

  it('train says why the run gets its settings, and --time-budget sets the budget', () => {
    const t = cli(
      'train',
      String(datasetId),
      '--preset',
      'fast',
      '--epochs',
      '1',
      '--time-budget',
      '30',
    )
    expect(t.code, t.stderr).toBe(0)
    expect(t.stderr).toContain('Why these settings:')
    expect(t.stderr).toContain(
      // the 356 images less the 54 the evaluation split keeps out of every run
      '  - 302 images (272 for training) in batches of 64: 4 optimiser steps',
    )
    expect(t.stderr).toContain('  - 1 epoch as you set (4 steps), stopped at 30 s if not done.')
    expect(t.stderr).toContain('  - Base filters 12: fewer than 1,000 images')
    expect(t.stdout).toMatch(/Run \d+: completed after 1 epoch\(s\)/)
  })

  it('train --json prints the run, resume continues it, sample writes images, doctor names the backend', () => {
    const t = cli(
      'train',
      String(datasetId),
      '--preset',
      'fast',
      '--epochs',
      '1',
      '--seed',
      '3',
      '--json',
    )
    expect(t.code, t.stderr).toBe(0)
    const run = t.json()
    expect(Object.keys(run).sort()).toEqual(
      [
        'backend',
        'datasetId',
        'device',
        'epochs',
        'error',
        'metrics',
        'model',
        'runId',
        'settings',
        'status',
      ].sort(),
    )
    // the model family: a run without --model is the CVAE
    expect(run).toMatchObject({
      datasetId,
      status: 'completed',
      epochs: 1,
      error: null,
      model: 'cvae',
    })
    expect(run.settings).toMatchObject({ preset: 'fast', epochs: 1, seed: 3 })
    runId = run.runId

    const out = join(home, 'samples')
    const s = cli('sample', String(runId), '--class', 'Bag', '--n', '3', '--out', out, '--json')
    expect(s.code, s.stderr).toBe(0)
    expect(s.json()).toMatchObject({ runId, files: expect.any(Array) })
    expect(s.json().files).toHaveLength(3)
    for (const f of s.json().files) expect(existsSync(f)).toBe(true)
    expect(readdirSync(out)).toHaveLength(3)

    const d = cli('doctor', '--json').json()
    expect(d.backend).toMatch(/^(tensorflow|wasm|cpu)$/)
    expect(typeof d.device).toBe('string')
    expect(Array.isArray(d.notes)).toBe(true)
  })

  it('train --model vqvae trains both stages with its own flags, which --help lists', () => {
    const help = cli('--help')
    for (const flag of [
      '--model cvae|wae|vqvae',
      '--codebook-size K',
      '--prior-epochs N',
      '--no-ema',
    ])
      expect(help.stdout + help.stderr).toContain(flag)
    const t = cli(
      'train',
      String(datasetId),
      '--preset',
      'fast',
      '--model',
      'vqvae',
      '--epochs',
      '1',
      '--prior-epochs',
      '1',
      '--codebook-size',
      '16',
      '--no-ema',
      '--json',
    )
    expect(t.code, t.stderr).toBe(0)
    const run = t.json()
    expect(run).toMatchObject({ status: 'completed', epochs: 2, model: 'vqvae' })
    expect(run.settings).toMatchObject({ vqCodebookSize: 16, vqEma: false, priorEpochs: 1 })
    expect(run.metrics).toMatchObject({ stage: 'prior' })
    const bad = cli('train', String(datasetId), '--model', 'gan', '--json')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('Model family')
  })

  it('Ctrl-C (to the whole process group) cancels a training run once, keeps a checkpoint, exits 130; resume finishes it', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'train', String(datasetId), '--preset', 'fast', '--epochs', '40'],
      // its own process group, so the interrupt can go to the whole group as a terminal's Ctrl-C
      // does: the launcher and the CLI behind it both get it (the launcher also forwards it)
      {
        env: { ...process.env, SYNTHFOLD_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    )
    let stdout = ''
    let stderr = ''
    let sent = false
    child.stdout.on('data', (b) => (stdout += b))
    child.stderr.on('data', (b) => {
      stderr += b
      // interrupt once the first epoch is reported
      if (!sent && /epoch 1:/.test(stderr)) {
        sent = true
        process.kill(-child.pid!, 'SIGINT')
      }
    })
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    expect(code, stderr).toBe(130)
    expect(stderr).toMatch(
      /Cancelling… \(a checkpoint is saved; resume with synthfold resume \d+\)/,
    )
    const m = /Run (\d+): cancelled after (\d+) epoch/.exec(stdout)
    expect(m, stdout).not.toBeNull()
    const run = { runId: Number(m![1]) }
    expect(Number(m![2])).toBeLessThan(40)
    const r = cli('resume', String(run.runId), '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(r.json()).toMatchObject({ runId: run.runId, status: 'completed', epochs: 40 })
  }, 240_000)
})
