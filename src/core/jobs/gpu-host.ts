import { createRequire } from 'node:module'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { BackendInfo, BackendName } from '../../shared/backend'
import { isPageBackend } from '../../shared/backend'
import type { GpuPort, OpenGpuPage } from '../../shared/gpu'
import type { FromTrainer, TrainJob } from '../../shared/ml-protocol'
import { chooseBackend, type BackendChoice, type Candidates } from '../accel/gpu-choice'
import { readCheckpointState, writeCheckpoint } from '../training/checkpoint'
import { loadTrainingData } from '../training/data-load'
import type { FromPage, ToPage } from '../training/page-protocol'
import { writePreviewImages } from '../training/preview'
import { diskFullMessage, isDiskFull } from '../util/disk'
import { runTrainerJob, startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { SpawnWorker } from './worker-process'

type TrainJobOf = Extract<TrainJob, { mode: 'train' }>

/** A run's trainer as its supervisor sees it: the ML process, or the GPU window's page. */
export interface RunTrainer {
  /** The training process (for the run's row); undefined for the page (main supervises it). */
  pid(): number | undefined
  stderrTail(): string
  cancel(): void
}

export interface GpuHostOptions {
  openPage: OpenGpuPage
  spawn?: SpawnWorker
  /** A fallback ML process started (the page chose the CPU): its pid, for the run's row. */
  onSpawned?: (pid: number | undefined) => void
  /** How long the page may take to load and answer the probe, ms. */
  probeTimeout?: number
  /** Whether @tensorflow/tfjs-node-gpu is installed (it goes first in the chain where it is). */
  nativeInstalled?: boolean
}

const nodeRequire = createRequire(import.meta.url)
const nativeInstalled = (): boolean => {
  try {
    nodeRequire.resolve('@tensorflow/tfjs-node-gpu')
    return true
  } catch {
    return false
  }
}

/** Why a page run ended before its `done`, for the run's error. */
const KEEPS = 'The run keeps its checkpoints; resume it on the CPU (backend cpu or wasm).'

/**
 * Trains one run in the desktop app's GPU window, speaking the ML process's protocol to the
 * supervisor (RunManager): the page is opened and asked for its adapters; the backend chain
 * (gpu-choice.ts) decides between it and the ML process; a page run gets the images and any resumed
 * state from here, and its checkpoints and previews come back as values this host writes exactly
 * where the ML process would. A crash, a closed port or a lost GPU device ends the run as failed,
 * with the checkpoints written so far.
 */
export function startGpuRun(
  job: TrainJobOf,
  onMessage: (m: FromTrainer) => void,
  onExit: (code: number | null, signal: string | null) => void,
  opts: GpuHostOptions,
): RunTrainer {
  let cpu: TrainerProcess | null = null
  let port: GpuPort | null = null
  let cancelled = false
  let finished = false
  let tail = ''
  const log = (line: string): void => {
    tail = (tail + line + '\n').slice(-4000)
  }
  // Page messages are written in order: a checkpoint's files before the next message is handled.
  let queue: Promise<void> = Promise.resolve()
  const enqueue = (work: () => void | Promise<void>): void => {
    queue = queue.then(work).catch((err: unknown) => fail(err))
  }
  const finish = (code: number): void => {
    if (finished) return
    finished = true
    port?.close()
    onExit(code, null)
  }
  const fail = (err: unknown, diverged = false): void => {
    if (finished) return
    const e = err instanceof Error ? err : new Error(String(err))
    const message = isDiskFull(err)
      ? diskFullMessage(e.message.replace(/^ENOSPC: /, ''), 'The run keeps the checkpoints it had.')
      : e.message
    onMessage({ type: 'error', error: { name: e.name, message, stack: e.stack }, diverged })
    finish(1)
  }

  const begin = async (): Promise<void> => {
    const page = await opts.openPage()
    port = page
    if (cancelled) throw new Error('cancelled before the GPU window opened')
    const probe = await new Promise<Extract<FromPage, { type: 'probe' }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the GPU window did not answer (no adapter report)')),
        opts.probeTimeout ?? 60_000,
      )
      page.onClose((reason) => {
        clearTimeout(timer)
        reject(new Error(`the GPU window closed before the run started (${reason})`))
      })
      page.onMessage((raw) => {
        const m = raw as FromPage
        if (m.type === 'probe') {
          clearTimeout(timer)
          resolve(m)
        } else if (m.type === 'error') {
          clearTimeout(timer)
          reject(new Error(m.error.message))
        } else if (probed) handle(m)
      })
      page.postMessage({ type: 'probe' } satisfies ToPage)
    })
    probed = true
    const choice = choose(probe, job.backend, opts.nativeInstalled ?? nativeInstalled())
    log(`backend: ${choice.backend} (${choice.device}); ${choice.notes.join('; ')}`)
    if (!isPageBackend(choice.backend)) return runOnCpu(choice)
    page.onClose((reason) => {
      if (finished) return
      enqueue(() => {
        throw new Error(`The GPU window stopped (${reason}) before the run ended. ${KEEPS}`)
      })
    })
    const backend: BackendInfo = {
      backend: choice.backend,
      device: choice.device,
      notes: choice.notes,
      threads: 1,
      simd: false,
    }
    info = backend
    const data = readData(job)
    const resume = job.resumeFrom ? readCheckpointState(job.resumeFrom) : null
    const transfer = [data.pixels.buffer, data.labels.buffer, data.ids.buffer] as ArrayBuffer[]
    if (resume) transfer.push(resume.weights.buffer as ArrayBuffer)
    page.postMessage(
      {
        type: 'train',
        backend: choice.backend,
        settings: job.settings,
        data,
        resume,
        lastEvery: 1000 * Number(process.env.SYNTHFOLD_LAST_CHECKPOINT_SECONDS ?? 60),
      } satisfies ToPage,
      transfer,
    )
    if (cancelled) page.postMessage({ type: 'cancel' } satisfies ToPage)
  }
  let probed = false
  let info: BackendInfo | null = null
  let lastEpoch = 0

  /** A page message, in order. */
  const handle = (m: FromPage): void => {
    if (m.type === 'started') {
      lastEpoch = m.epoch
      const { trainImages, valImages, epoch } = m
      enqueue(() => onMessage({ type: 'started', backend: info!, trainImages, valImages, epoch }))
    } else if (m.type === 'trainer') {
      const msg = m.message
      if (msg.type === 'epoch') lastEpoch = msg.metrics.epoch
      if (msg.type === 'done')
        enqueue(async () => {
          await forecast()
          onMessage(msg)
          finish(0)
        })
      else enqueue(() => onMessage(msg))
    } else if (m.type === 'checkpoint') {
      enqueue(() => {
        const dir = join(job.runDir, m.kind)
        try {
          writeCheckpoint(dir, m.state)
        } catch (err) {
          if (!isDiskFull(err)) throw err
          throw Object.assign(new Error(`could not write the ${m.kind} checkpoint (${dir})`), {
            code: 'ENOSPC',
          })
        }
        const { epoch, bestValLoss } = m.state.meta
        onMessage({ type: 'checkpoint', kind: m.kind, epoch, dir, bestValLoss })
      })
    } else if (m.type === 'preview') {
      enqueue(async () => {
        await writePreviewImages(job.runDir, m.images)
        onMessage({ type: 'preview', epoch: m.epoch })
      })
    } else if (m.type === 'device-lost') {
      enqueue(() => {
        throw new Error(
          `The GPU device was lost during epoch ${lastEpoch + 1} (${m.reason}${m.message ? `: ${m.message}` : ''}). ${KEEPS}`,
        )
      })
    } else if (m.type === 'error') {
      enqueue(() => fail(Object.assign(new Error(m.error.message), { name: m.error.name }), m.diverged))
    }
  }

  /** The forecast, made by an ML process from the checkpoints written (a failure costs nothing). */
  const forecast = async (): Promise<void> => {
    if (cancelled) return
    try {
      const f = await runTrainerJob(
        {
          mode: 'forecast',
          dbPath: job.dbPath,
          home: job.home,
          datasetId: job.datasetId,
          settings: job.settings,
          runDir: job.runDir,
          excludeHeldOut: job.excludeHeldOut,
          backend: 'auto',
        },
        'forecast',
        opts.spawn,
      )
      onMessage(f)
    } catch (err) {
      log(`forecast skipped: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** The chain chose the ML process: the page's findings replace its "renderer only" notes. */
  const runOnCpu = (choice: BackendChoice): void => {
    port?.close()
    port = null
    const pageNotes = choice.notes.filter((n) => /^(webgpu|webgl):/.test(n))
    const backend: BackendName | 'auto' = isPageBackend(job.backend) ? 'auto' : job.backend
    cpu = startTrainerProcess(
      { ...job, backend },
      (m) => {
        if (m.type === 'started')
          m = {
            ...m,
            backend: {
              ...m.backend,
              notes: [
                ...m.backend.notes.filter((n) => !/^(webgpu|webgl):/.test(n)),
                ...pageNotes,
              ],
            },
          }
        onMessage(m)
      },
      (code, signal) => {
        finished = true
        onExit(code, signal)
      },
      opts.spawn,
    )
    opts.onSpawned?.(cpu.proc.pid)
    if (cancelled) cpu.cancel()
  }

  begin().catch((err: unknown) => fail(err))
  return {
    pid: () => cpu?.proc.pid,
    stderrTail: () => (cpu ? cpu.stderrTail() : tail.trim().split('\n').slice(-5).join('\n')),
    cancel: () => {
      cancelled = true
      if (cpu) return cpu.cancel()
      if (finished) return
      port?.postMessage({ type: 'cancel' } satisfies ToPage)
      // A page that does not stop within a few seconds is closed: the run ends without its `done`.
      setTimeout(() => {
        if (!finished) fail(new Error(`The GPU window did not stop when cancelled. ${KEEPS}`))
      }, 15_000).unref()
    },
  }
}

/** The backend chain over what the page found; tfjs-node-gpu goes first where it is installed. */
export function choose(
  probe: Extract<FromPage, { type: 'probe' }>,
  force: BackendName | 'auto',
  native: boolean,
): BackendChoice {
  const candidates: Candidates = {
    // Where it is installed, the ML process loads it (and finds its CUDA GPU, or says why not)
    tensorflow: native
      ? { loads: true, gpu: 'CUDA GPU (tfjs-node-gpu, in the ML process)' }
      : { loads: false, gpu: null, error: '@tensorflow/tfjs-node-gpu is not installed' },
    webgpu: probe.webgpu,
    webgl: probe.webgl,
    wasm: { loads: true },
  }
  return chooseBackend(candidates, force, 'CPU (the ML process)')
}

function readData(job: TrainJobOf) {
  const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
  try {
    const d = loadTrainingData(
      db,
      job.home,
      job.datasetId,
      job.excludeHeldOut ? 'exclude' : 'include',
    )
    return {
      size: d.size,
      channels: d.channels,
      classNames: d.classNames,
      pixels: d.pixels,
      labels: d.labels,
      ids: d.ids,
    }
  } finally {
    db.close()
  }
}
