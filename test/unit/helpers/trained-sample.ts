import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Core } from '../../../src/core/core'
import { dbFile } from '../../../src/core/util/paths'
import { importAndWait, trainAndWait } from './core'
import { tmp } from './messy'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')

/**
 * The run the shared fixture trains on the shipped sample: long enough that generation accepts
 * samples under a loose filter, short enough for the suite (about 300 optimiser steps).
 */
export const TRAINED_SAMPLE_SETTINGS = {
  preset: 'fast',
  epochs: 25,
  batchSize: 32,
  baseFilters: 16,
} as const

/** A library that holds the shipped sample (dataset 1) and one completed run of it (run 1). */
export interface TrainedSample {
  home: string
  datasetId: number
  runId: number
}

async function build(home: string): Promise<TrainedSample> {
  const core = new Core({ home, shell: 'cli' })
  try {
    const datasetId = (await importAndWait(core, { path: SAMPLE })).summary!.datasetId
    const runId = await trainAndWait(core, datasetId, { ...TRAINED_SAMPLE_SETTINGS })
    const run = core.runsRepo.get(runId)
    if (run?.status !== 'completed') throw new Error(`the fixture's run ended ${run?.status}`)
    // the copies name them by these ids
    if (datasetId !== 1 || runId !== 1)
      throw new Error(`the fixture got ids ${datasetId}, ${runId}`)
    return { home, datasetId, runId }
  } finally {
    await core.close()
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * How long a caller's beforeAll should allow: the first file to ask builds the run (a minute or
 * two on a busy machine), and a hook that times out while building would leave the others waiting.
 */
export const TRAINED_SAMPLE_HOOK_MS = 600_000

/** Whether the lock's owner is gone (its process ended without releasing it). */
function lockIsStale(lock: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
  } catch {
    // created, its pid not yet written: stale only if it stays so
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000
    } catch {
      return false // released meanwhile
    }
  }
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * A fresh copy of the trained-sample library in a folder of its own (the caller owns and removes
 * it). Many test files need a trained run of the sample and none cares which; importing and
 * training it once per `vitest run` (test/unit/global-setup.ts gives the shared folder) and
 * copying it saves the suite about a minute a file. The first worker to ask builds it under a lock
 * (an atomic mkdir holding the builder's pid); the others wait for it, and take over a lock whose
 * builder died. Each builder builds in a folder of its own and renames it into place, so two
 * builders (after a takeover race) waste time but never mix files. A build that fails is recorded,
 * and every later caller fails at once with its message. Outside a vitest run it is built in place.
 */
export async function trainedSample(prefix: string): Promise<TrainedSample> {
  const shared = process.env.SYNTHFOLD_TEST_SHARED
  if (!shared) return build(tmp(prefix))
  const ready = join(shared, 'trained-sample')
  const lock = join(shared, 'trained-sample.lock')
  const failed = join(shared, 'trained-sample.failed')
  const building = join(shared, `trained-sample.building-${process.pid}`)
  const deadline = Date.now() + TRAINED_SAMPLE_HOOK_MS
  while (!existsSync(ready)) {
    if (existsSync(failed))
      throw new Error(`the shared trained sample failed to build: ${readFileSync(failed, 'utf8')}`)
    let mine = false
    try {
      mkdirSync(lock)
      mine = true
    } catch {
      // another worker builds it
    }
    if (mine) {
      try {
        writeFileSync(join(lock, 'pid'), String(process.pid))
        // it may have been finished between the check above and taking the lock
        if (existsSync(ready)) break
        rmSync(building, { recursive: true, force: true })
        try {
          await build(building)
        } catch (e) {
          writeFileSync(failed, e instanceof Error ? e.message : String(e))
          throw e
        }
        try {
          renameSync(building, ready)
        } catch (e) {
          // another builder finished first: its copy is as good
          if (!existsSync(ready)) throw e
          rmSync(building, { recursive: true, force: true })
        }
      } finally {
        rmSync(lock, { recursive: true, force: true })
      }
    } else {
      if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true })
      else if (Date.now() > deadline)
        throw new Error('the shared trained sample was not built in 10 minutes')
      else await sleep(250)
    }
  }
  const home = tmp(prefix)
  rmSync(home, { recursive: true, force: true })
  cpSync(ready, home, { recursive: true })
  // checkpoint rows hold absolute paths (of the folder it was built in): point them into the copy.
  // The builder's folder name has its pid, so the old prefix is read back from the rows.
  const db = new Database(dbFile(home))
  try {
    const row = db.prepare('SELECT path FROM checkpoints LIMIT 1').get() as
      { path: string } | undefined
    const old = row?.path.match(/^(.*trained-sample\.building-\d+)/)?.[1]
    if (old)
      db.prepare('UPDATE checkpoints SET path = ? || substr(path, ?)').run(home, old.length + 1)
  } finally {
    db.close()
  }
  return { home, datasetId: 1, runId: 1 }
}
