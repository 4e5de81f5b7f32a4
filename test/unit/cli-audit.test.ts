import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from './helpers/trained-sample'

/**
 * `synthfold audit`, `relabel` and `exclude` are public interfaces: the real bin/synthfold.js on
 * the shipped sample, their JSON, exit codes and error messages.
 */
const BIN = join(import.meta.dirname, '../../bin/synthfold.js')

describe('synthfold audit, relabel and exclude (real process, sample dataset)', () => {
  let home = ''
  let datasetId = 0
  let runId = 0
  /** The dataset's name, which relabel and exclude take as well as its id. */
  let name = ''
  beforeAll(async () => {
    ;({ home, datasetId, runId } = await trainedSample('cli-audit'))
    name = cli('datasets', '--json').json().datasets[0].name
  }, TRAINED_SAMPLE_HOOK_MS)
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
  let paths: { path: string; class: string }[] = []

  it('audit --json lists every image of the dataset with finite scores (auditing first)', () => {
    const r = cli('audit', String(runId), '--json')
    expect(r.code, r.stderr).toBe(0)
    const a = r.json()
    expect(a).toMatchObject({ runId, datasetId })
    expect(a.images).toHaveLength(356)
    const keys = ['path', 'class', 'anomalyScore', 'suggestedClass', 'labelErrorScore']
    for (const im of a.images) {
      expect(Object.keys(im)).toEqual(expect.arrayContaining(keys))
      expect(Number.isFinite(im.anomalyScore)).toBe(true)
      expect(Number.isFinite(im.labelErrorScore)).toBe(true)
      expect(im.path).toMatch(/^[^/]+\/[^/]+\.\w+$/)
      expect(im.path.split('/')[0]).toBe(im.class)
    }
    expect(new Set(a.images.map((im: { path: string }) => im.path)).size).toBe(356)
    // most suspicious first
    const scores = a.images.map((im: { labelErrorScore: number }) => im.labelErrorScore)
    expect(scores).toEqual([...scores].sort((x: number, y: number) => y - x))
    paths = a.images

    // stored: a second call reads it without auditing again
    const again = cli('audit', String(runId), '--json')
    expect(again.json().auditId).toBe(a.auditId)
    const text = cli('audit', String(runId))
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/Likely label errors/)
    expect(text.stdout).toMatch(/Outliers/)
  })

  it('relabel and exclude change the class counts, --undo restores; bad input is refused', () => {
    const target = paths.find((p) => p.class === 'Bag')!
    const before = cli('datasets', '--json').json().datasets[0].classes
    const count = (cs: { name: string; count: number }[], n: string) =>
      cs.find((c) => c.name === n)!.count

    const r = cli('relabel', name, '--path', target.path, '--class', 'Trouser', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(r.json()).toMatchObject({ path: target.path, class: 'Trouser', originalClass: 'Bag' })
    expect(count(r.json().classes, 'Bag')).toBe(count(before, 'Bag') - 1)
    expect(count(r.json().classes, 'Trouser')).toBe(count(before, 'Trouser') + 1)
    // the audit reads the new label
    const audited = cli('audit', String(runId), '--json').json()
    expect(audited.images.find((im: { path: string }) => im.path === target.path).class).toBe(
      'Trouser',
    )

    const e = cli('exclude', String(datasetId), '--path', target.path, '--json')
    expect(e.code, e.stderr).toBe(0)
    expect(e.json()).toMatchObject({ excluded: true })
    expect(count(e.json().classes, 'Trouser')).toBe(count(before, 'Trouser'))

    const u1 = cli('exclude', name, '--path', target.path, '--undo', '--json')
    expect(u1.json()).toMatchObject({ excluded: false, class: 'Trouser' })
    const u2 = cli('relabel', name, '--path', target.path, '--undo')
    expect(u2.code, u2.stderr).toBe(0)
    expect(u2.stdout).toMatch(/as imported/)
    expect(cli('datasets', '--json').json().datasets[0].classes).toEqual(before)

    const missing = cli('relabel', name, '--path', 'Bag/nope.png', '--class', 'Trouser')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/No image at "Bag\/nope.png"/)
    expect(missing.stderr).not.toMatch(/\n\s+at /)
    const badClass = cli('relabel', name, '--path', target.path, '--class', 'Hat', '--json')
    expect(badClass.code).toBe(1)
    expect(badClass.json().error).toMatchObject({ code: 'invalid_argument' })
    expect(badClass.stderr).toMatch(/No class "Hat"/)
    expect(cli('exclude', name).code).toBe(2)
    expect(cli('relabel', name, '--path', target.path).code).toBe(2)
    expect(cli('audit', 'x').code).toBe(2)
    const noRun = cli('audit', '999', '--json')
    expect(noRun.code).toBe(1)
    expect(noRun.json().error).toMatchObject({ code: 'not_found' })
  })

  it('Ctrl-C (to the whole process group) cancels an audit, exits 130, and keeps the last one', async () => {
    const before = cli('audit', String(runId), '--json').json().auditId
    const child = spawn(process.execPath, [BIN, 'audit', String(runId), '--again'], {
      // each scoring chunk waits 500 ms: the audit is still running when the interrupt lands
      env: { ...process.env, SYNTHFOLD_HOME: home, SYNTHFOLD_FAULT: 'slow-audit@500' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stderr = ''
    let sent = false
    child.stderr.on('data', (b) => {
      stderr += b
      // interrupt once the audit has started (its process is on its way)
      if (!sent && /Audit \d+ started/.test(stderr)) {
        sent = true
        process.kill(-child.pid!, 'SIGINT')
      }
    })
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    expect(code, stderr).toBe(130)
    expect(stderr).toMatch(/Cancelling…/)
    expect(stderr).toMatch(/Audit \d+ cancelled/)
    expect(cli('audit', String(runId), '--json').json().auditId).toBe(before)
  }, 120_000)
})
