import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import type { RunEvent, RunSummary } from '../../src/shared/runs'
import { planTraining } from '../../src/shared/train-settings'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')
const tiny = { preset: 'fast' as const, batchSize: 32, baseFilters: 8 }

/** Waits for the run to leave 'running'; calls `onEvent` for each of its events on the way. */
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

describe('training runs, each in its own process', () => {
  let home: string
  let core: Core
  let datasetId: number
  beforeAll(async () => {
    home = tmp('runs')
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
  })
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('runs to completion, recording backend, per-epoch metrics and checkpoints', async () => {
    let id = 0
    const events: RunEvent[] = []
    const done = finished(
      core,
      () => id,
      (e) => events.push(e),
    )
    id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, epochs: 2 } }))).id
    const run = await done
    expect(run.status).toBe('completed')
    expect(run.backend).toBe('wasm')
    expect(run.device).toMatch(/WebAssembly/)
    expect(run.backendNotes.join(' ')).toMatch(/tfjs-node-gpu/)
    expect(run.epochsDone).toBe(2)
    expect(run.checkpoints.map((c) => c.kind).sort()).toEqual(['best', 'last'])
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2)
    const progress = events.filter((e) => e.type === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    const { epochs, run: stored } = await ok(core.call('runs.get', { runId: id }))
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1])
    expect(epochs[0].imagesPerSecond).toBeGreaterThan(0)

    // the finished run stores its per-class forecast, measured on its best checkpoint
    const f = stored.forecast!
    expect(f).toEqual(run.forecast)
    expect(f.checkpoint).toEqual({ kind: 'best', epoch: 2 })
    expect(f.classes.map((c) => c.className)).toEqual(run.classNames)
    expect(f.heldOut).toBe(run.valImages)
    expect(f.classes.reduce((a, c) => a + c.heldOut, 0)).toBe(run.valImages)
    // the sample's classes of 8 to 80 images hold out 1 to 8 each (a tenth, at least one)
    expect(f.classes.find((c) => c.className === 'Ankle_boot')!.heldOut).toBe(1)
    // 80 images, 12 in the evaluation split: 10% of the other 68 validate
    expect(f.classes.find((c) => c.className === 'T-shirt_top')!.heldOut).toBe(7)
    expect(f.classifierAccuracy).toBeGreaterThanOrEqual(0)
    expect(f.classifierAccuracy).toBeLessThanOrEqual(1)
    for (const c of f.classes) {
      expect(c.tried).toBe(64)
      const rejected = c.rejected['near-copy'] + c.rejected['low-confidence'] + c.rejected.duplicate
      expect(c.passed + rejected).toBe(c.tried)
      expect(c.nearestInClass).toBeGreaterThanOrEqual(0)
      expect(c.realNearestInClass).toBeGreaterThan(0)
    }

    const out = join(home, 'samples')
    const s = await ok(
      core.call('runs.sample', { runId: id, class: 'Bag', n: 3, outDir: out, seed: 5 }),
    )
    expect(s.files).toHaveLength(3)
    expect(readdirSync(out)).toHaveLength(3)
    const bad = await core.call('runs.sample', { runId: id, class: 'Cat', n: 1, outDir: out })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.message).toMatch(/No class "Cat".*Ankle_boot/)
  })

  it('cancels between batches, keeps a checkpoint, and resumes to the end', async () => {
    let id = 0
    let asked = false
    const stopped = finished(
      core,
      () => id,
      (e) => {
        if (e.type === 'progress' && !asked) {
          asked = true
          void core.call('runs.cancel', { runId: id })
        }
      },
    )
    id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, epochs: 3 } }))).id
    const cancelled = await stopped
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.epochsDone).toBeLessThan(3)
    expect(cancelled.checkpoints.some((c) => c.kind === 'last')).toBe(true)
    expect(cancelled.forecast).toBeNull()
    const resumedDone = finished(core, () => id)
    await ok(core.call('runs.resume', { runId: id }))
    const resumed = await resumedDone
    expect(resumed.status).toBe('completed')
    expect(resumed.epochsDone).toBe(3)
    expect(resumed.forecast?.classes).toHaveLength(10)
    const again = await core.call('runs.resume', { runId: id })
    expect(again.ok).toBe(false)
  })

  it('marks a run failed when its process is killed, and the app carries on', async () => {
    let id = 0
    const ended = finished(
      core,
      () => id,
      (e) => {
        if (e.type === 'progress') {
          const pid = core.runsRepo.row(id)?.pid
          if (pid) process.kill(pid, 'SIGKILL')
        }
      },
    )
    id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, epochs: 50 } }))).id
    const run = await ended
    expect(run.status).toBe('failed')
    expect(run.error).toMatch(/stopped unexpectedly \(it was ended by SIGKILL\)/)
    expect((await ok(core.call('runs.list', { datasetId }))).length).toBeGreaterThan(0)
  })

  it('stops a diverging run at once with a clear message', async () => {
    process.env.SYNTHFOLD_FAULT = 'diverge@0:1'
    try {
      let id = 0
      const ended = finished(core, () => id)
      id = (await ok(core.call('runs.start', { datasetId, settings: { ...tiny, epochs: 5 } }))).id
      const run = await ended
      expect(run.status).toBe('diverged')
      expect(run.error).toMatch(/loss became NaN or infinite at epoch 1, batch 2/)
      expect(run.epochsDone).toBe(0)
    } finally {
      delete process.env.SYNTHFOLD_FAULT
    }
  })

  it('shows a run that was going when the app died as interrupted, resumable', async () => {
    const id = core.runsRepo.create(
      datasetId,
      (await ok(core.call('runs.list', { datasetId })))[0].settings,
      ['x'],
    )
    core.db.prepare(`UPDATE runs SET status = 'running', pid = 999999999 WHERE id = ?`).run(id)
    const second = new Core({ home, shell: 'cli' })
    try {
      const run = await ok(second.call('runs.get', { runId: id }))
      expect(run.run.status).toBe('interrupted')
      expect(run.run.error).toMatch(/Resume it/)
      const r = await second.call('runs.resume', { runId: id })
      expect(r.ok).toBe(false) // this one never wrote a checkpoint
      if (!r.ok) expect(r.error.message).toMatch(/no checkpoint to resume from/)
    } finally {
      await second.close()
    }
  })

  it('stops at its time budget with the reason, keeping the best checkpoint', async () => {
    let id = 0
    const done = finished(core, () => id)
    const settings = { ...tiny, epochs: 5000, timeBudgetSeconds: 4 }
    id = (await ok(core.call('runs.start', { datasetId, settings }))).id
    const run = await done
    // far fewer than the 5,000 epochs asked for
    expect(run.status).toBe('completed')
    expect(run.epochsDone).toBeGreaterThan(0)
    expect(run.epochsDone).toBeLessThan(5000)
    const best = run.checkpoints.find((c) => c.kind === 'best')
    expect(best).toBeDefined()
    expect(run.error).toBe(
      `Stopped at the time budget (4 s) after ${run.epochsDone} of 5000 epochs: training ran slower than planned. The best checkpoint (epoch ${best!.epoch}) is kept.`,
    )
    expect(run.checkpoints.map((c) => c.kind).sort()).toEqual(['best', 'last'])
    // the kept checkpoint samples
    const out = join(home, 'budget-samples')
    const s = await ok(core.call('runs.sample', { runId: id, class: 'Bag', n: 2, outDir: out }))
    expect(s.files).toHaveLength(2)
  })

  // two worker processes one after the other (the speed measurement, then the run): on a busy
  // 2-core machine they take more than the default minute
  it(
    'plans the epochs and the time budget from the preset at the measured speed',
    {
      timeout: 180_000,
    },
    async () => {
      let id = 0
      let asked = false
      const done = finished(
        core,
        () => id,
        (e) => {
          if (e.type === 'progress' && !asked) {
            asked = true
            void core.call('runs.cancel', { runId: id })
          }
        },
      )
      const settings = { preset: 'fast' as const, batchSize: 32 }
      const started = await ok(core.call('runs.start', { datasetId, settings }))
      id = started.id
      // measured once a session (when the panel opens, or here by the start): the same numbers
      const { imagesPerSecond } = await ok(core.call('runs.estimate', { datasetId }))
      const plan = planTraining(settings, {
        size: 28,
        channels: 1,
        // the 356 images less the 54 of the evaluation split
        imageCount: 302,
        imagesPerSecond: imagesPerSecond.fast,
      })
      // 302 images, 10% for validation, batches of 32: 8 steps an epoch; fast takes at least 250
      // steps (32 epochs) unless its 90 s do not fit them at this speed
      expect(plan.stepsPerEpoch).toBe(8)
      expect(started.settings).toEqual(plan.settings)
      expect(started.settings.epochs).toBe(plan.capped ? plan.settings.epochs : 32)
      expect(started.settings.timeBudgetSeconds).toBe(90)
      expect(started.settings.baseFilters).toBe(12)
      expect((await done).status).toBe('cancelled')
    },
  )

  it('deletes a run and its files', async () => {
    const [run] = await ok(core.call('runs.list', { datasetId }))
    const dir = join(home, 'runs', String(run.id))
    await ok(core.call('runs.delete', { runId: run.id }))
    expect(existsSync(dir)).toBe(false)
    expect((await core.call('runs.get', { runId: run.id })).ok).toBe(false)
  })
})
