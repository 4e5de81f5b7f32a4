import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import type { GenerationSummary } from '../../src/shared/generation'
import { ok } from './helpers/core'
import { trainedSample, TRAINED_SAMPLE_HOOK_MS } from './helpers/trained-sample'

const BIN = join(import.meta.dirname, '../../bin/synthfold.js')

function pngs(folder: string): number {
  const dir = join(folder, 'samples')
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) =>
    f.endsWith('.png'),
  ).length
}

async function rows(core: Core, generationId: number): Promise<number> {
  return (await ok(core.call('samples.list', { generationId, offset: 0, limit: 1 }))).total
}

function ended(core: Core, id: () => number): Promise<GenerationSummary> {
  return new Promise((resolve) => {
    const off = core.on('generation', (e) => {
      if (e.type === 'status' && e.generation.id === id() && e.generation.status !== 'running') {
        off()
        resolve(e.generation)
      }
    })
  })
}

describe('a generation killed half-way', () => {
  let home: string
  let core: Core
  let runId: number
  beforeAll(async () => {
    ;({ home, runId } = await trainedSample('gen-kill'))
    core = new Core({ home, shell: 'cli' })
  }, TRAINED_SAMPLE_HOOK_MS)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('leaves files and rows in agreement, and `generate --refill` finishes it', async () => {
    // a folder left by a generation whose row is gone is never written into
    mkdirSync(join(home, 'generations', '1'), { recursive: true })
    writeFileSync(join(home, 'generations', '1', 'keep'), 'old')
    const args = { runId, strategy: { kind: 'minority' }, maxRatio: 3 }
    const refused = await core.call('generations.start', args)
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.message).toMatch(/generations\/1 already holds files/)
    rmSync(join(home, 'generations', '1'), { recursive: true })

    process.env.SYNTHFOLD_FAULT = 'gen-kill@1'
    let id = 0
    try {
      const done = ended(core, () => id)
      id = (await ok(core.call('generations.start', args))).id
      const g = await done
      expect(g.status).toBe('failed')
      expect(g.error).toMatch(/SIGKILL/)
    } finally {
      delete process.env.SYNTHFOLD_FAULT
    }
    const folder = (await ok(core.call('generations.get', { generationId: id }))).folder
    // the kill landed after the first batch's PNGs were written and before their rows
    expect(pngs(folder)).toBe(await rows(core, id))

    const r = spawnSync(process.execPath, [BIN, 'generate', '--refill', String(id), '--json'], {
      env: { ...process.env, SYNTHFOLD_HOME: home },
      encoding: 'utf8',
      timeout: 180_000,
    })
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
    expect(Object.keys(out)).toEqual([
      'generationId',
      'runId',
      'status',
      'checkpoint',
      'temperature',
      'filters',
      'classifierAccuracy',
      'plan',
      'classes',
      'accepted',
      'generated',
      'folder',
      'note',
      'error',
    ])
    expect(out).toMatchObject({ generationId: id, runId, status: 'completed', error: null })
    expect(out.generated).toBeGreaterThan(0)
    expect(pngs(folder)).toBe(await rows(core, id))
    expect(await rows(core, id)).toBe(out.generated)
  }, 240_000)
})
