import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
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
 * A fresh copy of the trained-sample library in a folder of its own (the caller owns and removes
 * it). Many test files need a trained run of the sample and none cares which; importing and
 * training it once per `vitest run` (test/unit/global-setup.ts gives the shared folder) and
 * copying it saves the suite about a minute a file. The first worker to ask builds it under a lock
 * (an atomic mkdir); the others wait for it. Outside a vitest run it is built in place.
 */
export async function trainedSample(prefix: string): Promise<TrainedSample> {
  const home = tmp(prefix)
  const shared = process.env.SYNTHFOLD_TEST_SHARED
  if (!shared) return build(home)
  const ready = join(shared, 'trained-sample')
  const lock = join(shared, 'trained-sample.lock')
  const building = join(shared, 'trained-sample.building')
  if (!existsSync(ready)) {
    let mine = false
    try {
      mkdirSync(lock)
      mine = true
    } catch {
      // another worker builds it
    }
    if (mine) {
      rmSync(building, { recursive: true, force: true })
      try {
        await build(building)
        renameSync(building, ready)
      } finally {
        rmSync(lock, { recursive: true, force: true })
      }
    } else {
      const deadline = Date.now() + 300_000
      while (!existsSync(ready)) {
        if (!existsSync(lock)) return trainedSample(prefix)
        if (Date.now() > deadline)
          throw new Error('the shared trained sample was not built in 5 minutes')
        await sleep(250)
      }
    }
  }
  rmSync(home, { recursive: true, force: true })
  cpSync(ready, home, { recursive: true })
  // checkpoint rows hold absolute paths (of the folder it was built in): point them into the copy
  const db = new Database(dbFile(home))
  try {
    db.prepare('UPDATE checkpoints SET path = ? || substr(path, ?)').run(home, building.length + 1)
  } finally {
    db.close()
  }
  return { home, datasetId: 1, runId: 1 }
}
