import type * as tf from '@tensorflow/tfjs-core'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Trainer } from './trainer'
import type { VqTrainer } from './vq-trainer'
import {
  applyCheckpointState,
  checkpointState,
  stateTensors,
  type CheckpointMeta,
  type CheckpointState,
} from './checkpoint-state'

export type { CheckpointMeta, CheckpointState } from './checkpoint-state'

/**
 * Writes weights and optimiser state to `<dir>.tmp`, then renames it to `dir`: a reader never sees
 * a half-written checkpoint, and a crash leaves at worst a .tmp folder that the next save replaces.
 * `quick` (a cancel) stores the latent prior fitted last instead of a new pass over the dataset.
 */
export async function saveCheckpoint(
  trainer: Trainer | VqTrainer,
  dir: string,
  bestValLoss: number | null,
  quick = false,
): Promise<void> {
  writeCheckpoint(dir, await checkpointState(trainer, bestValLoss, quick))
}

/**
 * Writes a checkpoint made elsewhere (the GPU trainer page sends its state to main) the same way:
 * through `<dir>.tmp`, renamed into place.
 */
export function writeCheckpoint(dir: string, state: CheckpointState): void {
  const tmp = `${dir}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  const { meta } = state
  try {
    const weights = Buffer.from(
      state.weights.buffer,
      state.weights.byteOffset,
      state.weights.byteLength,
    )
    if (injectedDiskFull(meta.epoch)) {
      writeFileSync(join(tmp, 'weights.bin'), weights.subarray(0, weights.length >> 1))
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' })
    }
    writeFileSync(join(tmp, 'weights.bin'), weights)
    writeFileSync(join(tmp, 'checkpoint.json'), JSON.stringify(meta, null, 1))
  } catch (err) {
    // A failed write (a full disk) leaves the previous checkpoint in place and no temp folder.
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  rmSync(dir, { recursive: true, force: true })
  renameSync(tmp, dir)
}

/**
 * Fault injection for tests on machines where no small file system can be mounted:
 * SYNTHFOLD_FAULT=disk-full@E makes every checkpoint written from epoch E on fail half-way with
 * ENOSPC, as a full disk does.
 */
function injectedDiskFull(epoch: number): boolean {
  const m = /^disk-full@(\d+)$/.exec(process.env.SYNTHFOLD_FAULT ?? '')
  return m !== null && epoch >= Number(m[1])
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  const file = join(dir, 'checkpoint.json')
  if (!existsSync(file)) throw new Error(`No checkpoint at ${dir}`)
  return JSON.parse(readFileSync(file, 'utf8')) as CheckpointMeta
}

/** A checkpoint folder's metadata and weights, as values. */
export function readCheckpointState(dir: string): CheckpointState {
  const meta = readCheckpointMeta(dir)
  const bin = readFileSync(join(dir, 'weights.bin'))
  if (bin.byteLength % 4)
    throw new Error(`Checkpoint ${dir} is damaged (weights file size does not match).`)
  // a copy: the block outlives this read (it may be sent to the GPU page as a transfer)
  const weights = new Float32Array(bin.byteLength / 4)
  new Uint8Array(weights.buffer).set(bin)
  return { meta, weights }
}

/** Loads a checkpoint's tensors, grouped; the caller disposes them. */
export function readCheckpointTensors(dir: string): {
  meta: CheckpointMeta
  groups: Record<string, tf.Tensor[]>
} {
  const state = readCheckpointState(dir)
  return { meta: state.meta, groups: stateTensors(state, `Checkpoint ${dir}`) }
}

/** Restores weights and optimiser state into a trainer built with the same settings. */
export async function restoreTrainer(
  trainer: Trainer | VqTrainer,
  dir: string,
): Promise<CheckpointMeta> {
  return applyCheckpointState(trainer, readCheckpointState(dir), `Checkpoint ${dir}`)
}
