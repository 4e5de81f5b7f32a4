import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import type { RunEvent, RunSummary } from '../../src/shared/runs'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')
const tiny = { preset: 'fast' as const, batchSize: 32, baseFilters: 8 }

function finished(
  core: Core,
  runId: () => number,
  onEvent?: (e: RunEvent) => void,
): Promise<RunSummary> {
  return new Promise((resolve) => {
    const off = core.on('run', (e) => {
      const id = e.type === 'status' ? e.run.id : e.type === 'progress' ? e.progress.runId : e.runId
      if (id !== runId()) return
      onEvent?.(e)
      if (e.type === 'status' && e.run.status !== 'running') {
        off()
        resolve(e.run)
      }
    })
  })
}

/** Starts a run and SIGKILLs its process at the first progress event for which `when` holds. */
async function killWhen(
  core: Core,
  datasetId: number,
  settings: Record<string, unknown>,
  when: (id: number, e: Extract<RunEvent, { type: 'progress' }>) => boolean,
): Promise<RunSummary> {
  let id = 0
  let killed = false
  const ended = finished(
    core,
    () => id,
    (e) => {
      if (killed || e.type !== 'progress' || !when(id, e)) return
      const pid = core.runsRepo.row(id)?.pid
      if (pid) {
        killed = true
        process.kill(pid, 'SIGKILL')
      }
    },
  )
  id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, ...settings } }))).id
  return ended
}

describe('runs that lose their process or their disk', () => {
  let home: string
  let core: Core
  let datasetId: number
  beforeAll(async () => {
    home = tmp('runs-recovery')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
  })
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('resumes from `best` when the process died before the first `last`', async () => {
    const run = await killWhen(
      core,
      datasetId,
      { epochs: 3 },
      (id, e) => e.progress.epoch >= 1 && core.runsRepo.checkpoint(id, 'best') !== undefined,
    )
    expect(run.status).toBe('failed')
    expect(run.checkpoints.map((c) => c.kind)).toEqual(['best'])
    const resumed = finished(core, () => run.id)
    await ok(core.call('runs.resume', { runId: run.id }))
    const done = await resumed
    expect(done.status).toBe('completed')
    expect(done.epochsDone).toBe(3)
  })

  it('writes `last` at a batch boundary once its interval has passed, so a kill loses little', async () => {
    process.env.SYNTHFOLD_LAST_CHECKPOINT_SECONDS = '0'
    try {
      // killed inside the first epoch, once a `last` exists: before the fix there was none
      const run = await killWhen(
        core,
        datasetId,
        { epochs: 2 },
        (id, e) =>
          e.progress.epoch === 0 &&
          e.progress.batch >= 3 &&
          core.runsRepo.checkpoint(id, 'last') !== undefined,
      )
      expect(run.status).toBe('failed')
      expect(run.epochsDone).toBe(0)
      expect(run.checkpoints.map((c) => c.kind)).toContain('last')
    } finally {
      delete process.env.SYNTHFOLD_LAST_CHECKPOINT_SECONDS
    }
  })

  it('a full disk under the database fails the run with "disk full"; the host carries on', async () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
    const repo = core.runsRepo
    const { addEpoch, finish } = repo
    let finishFailures = 1
    repo.addEpoch = () => {
      throw full
    }
    // the first attempt to record the outcome meets the full disk too
    repo.finish = (...a: Parameters<typeof finish>) => {
      if (finishFailures-- > 0) throw full
      finish.apply(repo, a)
    }
    try {
      let id = 0
      const ended = finished(core, () => id)
      id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, epochs: 5 } }))).id
      const run = await ended
      expect(run.status).toBe('failed')
      expect(run.error).toMatch(/disk full/i)
      expect(repo.get(id)!.status).toBe('failed')
      expect(repo.get(id)!.error).toMatch(/disk full/i)
      expect(core.runs.isLive(id)).toBe(false)
    } finally {
      repo.addEpoch = addEpoch
      repo.finish = finish
    }
    // still serving calls
    expect((await ok(core.call('runs.list', { datasetId }))).length).toBeGreaterThan(0)
  })
})
