import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmp } from './helpers/messy'

/**
 * What the CLI refuses, and what it prints: the real `bin/synthfold.js` on the bundled sample
 * dataset (a one-epoch run is enough to sample from).
 */
const BIN = join(import.meta.dirname, '../../bin/synthfold.js')
const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')
const PNG = join(SAMPLE, 'Bag', 't10k-00018.png')
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/

describe('the synthfold CLI refuses what it cannot do and prints only safe text', () => {
  const home = tmp('cli-hard')
  const work = tmp('cli-hard-cwd')
  afterAll(() => {
    rmSync(home, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  })
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: work,
      env: { ...process.env, SYNTHFOLD_HOME: home },
      encoding: 'utf8',
      timeout: 180_000,
    })
    const last = r.stdout.trim().split('\n').pop() ?? ''
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(last) }
  }
  let datasetId = 0
  let runId = 0
  beforeAll(() => {
    const i = cli('import', SAMPLE, '--name', 'Sample', '--json')
    expect(i.code, i.stderr).toBe(0)
    datasetId = i.json().datasetId
    const t = cli('train', String(datasetId), '--preset', 'fast', '--epochs', '1', '--json')
    expect(t.code, t.stderr).toBe(0)
    runId = t.json().runId
  }, 180_000)

  it('train --model picks the family (--json says which) and refuses one it does not know', () => {
    const w = cli(
      'train',
      String(datasetId),
      '--preset',
      'fast',
      '--epochs',
      '1',
      '--model',
      'wae',
      '--wae-lambda',
      '20',
      '--json',
    )
    expect(w.code, w.stderr).toBe(0)
    expect(w.json()).toMatchObject({ model: 'wae', status: 'completed', epochs: 1 })
    expect(w.json().settings).toMatchObject({ model: 'wae', waeLambda: 20 })
    expect(Number.isFinite(w.json().metrics.kl)).toBe(true)
    const bad = cli('train', String(datasetId), '--model', 'gan', '--json')
    expect(bad.code).toBe(1)
    expect(bad.json().error.message).toMatch(/Model family/)
    const help = cli('--help')
    expect(help.stdout).toMatch(/--model cvae\|wae/)
    expect(help.stdout).toMatch(/--wae-lambda/)
  })

  it('sample --out refuses a folder that already holds files and leaves them as they were', () => {
    const out = join(work, 'samples')
    const first = cli('sample', String(runId), '--class', 'Bag', '--n', '2', '--out', out)
    expect(first.code, first.stderr).toBe(0)
    const before = readdirSync(out).map((f) => readFileSync(join(out, f)))
    const again = cli('sample', String(runId), '--class', 'Bag', '--n', '2', '--out', out)
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already holds files.*never overwrites/)
    expect(readdirSync(out).map((f) => readFileSync(join(out, f)))).toEqual(before)
    const json = cli('sample', String(runId), '--class', 'Bag', '--n', '2', '--out', out, '--json')
    expect(json.code).toBe(1)
    expect(json.json().error.code).toBe('conflict')
  })

  it('sample and export resolve a relative --out against the current directory and print it', () => {
    const s = cli('sample', String(runId), '--class', '0', '--n', '1', '--out', 'rel-samples')
    expect(s.code, s.stderr).toBe(0)
    expect(s.stdout).toContain(`to ${join(work, 'rel-samples')}\n`)
    expect(readdirSync(join(work, 'rel-samples'))).toHaveLength(1)
    const e = cli('export', 'Sample', '--out', 'rel-export')
    expect(e.code, e.stderr).toBe(0)
    expect(e.stdout).toContain(`to ${join(work, 'rel-export')}\n`)
    expect(existsSync(join(work, 'rel-export', 'metadata.csv'))).toBe(true)
    const g = cli('export-generator', String(runId), '--out', 'rel-gen', '--json')
    expect(g.code, g.stderr).toBe(0)
    expect(g.json().files[0].startsWith(join(work, 'rel-gen'))).toBe(true)
  })

  it('unknown generation, run and dataset ids are errors (exit 1, not_found), not empty results', () => {
    const out = join(work, 'never')
    const gen = cli('export', 'Sample', '--out', out, '--generation', '999')
    expect(gen.code).toBe(1)
    expect(gen.stderr).toMatch(/No generation with id 999/)
    const genJson = cli('export', 'Sample', '--out', out, '--generation', '999', '--json')
    expect(genJson.code).toBe(1)
    expect(genJson.json().error).toMatchObject({ code: 'not_found' })
    expect(existsSync(out)).toBe(false)
    for (const args of [
      ['export', '999', '--out', out],
      ['generate', '999'],
      ['sample', '999', '--class', '0', '--n', '1', '--out', out],
      ['resume', '999'],
      ['export-generator', '999', '--out', out],
      ['export', '--resume', '999'],
    ]) {
      const r = cli(...args, '--json')
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.json().error, args.join(' ')).toMatchObject({
        code: 'not_found',
        message: expect.stringMatching(/999/),
      })
    }
  })

  it('escapes control characters of class and dataset names in human output (not in --json)', () => {
    const evil = join(work, 'evil\x1b]0;owned\x07')
    for (const cls of ['red\x1b[31mX', 'two\nlines']) {
      mkdirSync(join(evil, cls), { recursive: true })
      copyFileSync(PNG, join(evil, cls, 'a.png'))
    }
    const human = cli('import', evil)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).not.toMatch(CONTROL)
    expect(human.stdout).toContain('red\\x1b[31mX')
    expect(human.stdout).toContain('two\\nlines')
    expect(human.stdout).not.toContain('two\nlines')
    expect(human.stdout).toContain('evil\\x1b]0;owned\\x07')
    const list = cli('datasets')
    expect(list.stdout).not.toMatch(CONTROL)
    expect(list.stdout).toContain('evil\\x1b]0;owned\\x07')
    const json = cli('import', evil, '--json').json()
    expect(json.classes.map((c: { name: string }) => c.name).sort()).toEqual([
      'red\x1b[31mX',
      'two\nlines',
    ])
    const missing = cli('export', 'no\x1b[2Jsuch', '--out', join(work, 'x'))
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no\\x1b[2Jsuch')
    expect(missing.stderr).not.toMatch(CONTROL)
  })

  it('--strategy refuses reserved class names with a clear message', () => {
    const r = cli('generate', String(runId), '--strategy', '__proto__=5')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/"__proto__" cannot be used as a class name/)
    expect(r.stderr).not.toMatch(/object Object/)
  })
})
