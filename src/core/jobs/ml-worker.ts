/**
 * Training process entry (child_process.fork under Node, the same file under Electron): one run,
 * sample or doctor per process, so a crash or a kill never takes the app down, and native
 * backends that dislike a second thread (tensorflow/tfjs#8388) get a process of their own.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { setPriority } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import BetterSqlite3 from 'better-sqlite3'
import { initBackend } from '../accel/backend'
import { restoreTrainer, saveCheckpoint } from '../training/checkpoint'
import { loadTrainingData } from '../training/data-load'
import { splitIndices } from '../training/data'
import { writePreviews } from '../training/preview'
import { measurePresetSpeeds } from '../training/estimate'
import { Generator } from '../generation/generator'
import { DivergedError, Trainer } from '../training/trainer'
import { VqTrainer } from '../training/vq-trainer'
import { runLoop } from '../training/run-loop'
import { runGeneration } from '../generation/generate'
import { runEvaluation } from '../evaluate/evaluate-job'
import { runAudit } from '../audit/audit-job'
import { forecastRun } from '../generation/forecast'
import { exportGenerator } from '../generation/export-generator'
import { diskFullMessage, isDiskFull } from '../util/disk'
import { StudioSession } from '../studio/session'
import { CancelledError } from '../studio/pca'
import type { FromTrainer, StudioJob, ToTrainer, TrainJob } from '../../shared/ml-protocol'

let stop = false
// A terminal's Ctrl-C goes to every process of its group, this one included: it is the parent
// (the CLI, the app) that decides what an interrupt means and tells this process (a cancel
// message, or a kill). When the parent goes away, the 'disconnect' handler below ends this one.
process.on('SIGINT', () => undefined)
// Training and generation take every core they can; below normal priority they still do when the
// machine is otherwise idle, and the app's window (and anything else the person runs) stays
// responsive. Set before the backend starts its threads, which inherit it.
try {
  setPriority(10)
} catch {
  // not allowed here: run at normal priority
}
/** Electron's utilityProcess talks through process.parentPort; a forked Node process through IPC. */
const parentPort = (
  process as unknown as {
    parentPort?: {
      postMessage(m: unknown): void
      on(e: 'message', l: (ev: { data: ToTrainer }) => void): void
    }
  }
).parentPort
// Messages still being written to the parent: the channel is closed only once they are out (an
// audit's rows are megabytes, and a disconnect right after the last send would drop its tail).
let pending = 0
let whenDrained: (() => void) | null = null
const send = (m: FromTrainer): void => {
  if (parentPort) return parentPort.postMessage(m)
  pending++
  process.send?.(m, undefined, {}, () => {
    if (--pending === 0 && whenDrained) whenDrained()
  })
}
const onParentMessage = (listener: (m: ToTrainer) => void): void => {
  if (parentPort) parentPort.on('message', (e) => listener(e.data))
  else process.on('message', listener)
}
const done = (): void => {
  // A utility process stays up while its port listens: end it once the last message has gone out.
  if (parentPort) setTimeout(() => process.exit(0), 200)
  else if (process.connected) {
    const close = (): void => {
      if (process.connected) process.disconnect()
    }
    if (pending) whenDrained = close
    else close()
  }
}

/** A studio session's message handler, while one is open in this process. */
let studio: ((m: ToTrainer) => void) | null = null

onParentMessage((m: ToTrainer) => {
  if (m.type === 'cancel') stop = true
  else if (m.type === 'studio' || m.type === 'studio-cancel' || m.type === 'studio-close')
    studio?.(m)
  else if (m.type === 'start') {
    run(m.job)
      .catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err))
        const message = isDiskFull(err)
          ? diskFullMessage(
              e.message.replace(/^ENOSPC: /, ''),
              m.job.mode === 'train' ? 'The run keeps the checkpoints it had.' : '',
            )
          : e.message
        send({
          type: 'error',
          error: { name: e.name, message, stack: e.stack },
          diverged: err instanceof DivergedError,
        })
      })
      .finally(done)
  }
})
// The parent going away (app closed or killed) ends the run too: the job stops at its next batch
// (a run keeps a checkpoint), and a process still here after that grace is ended, so nothing
// outlives its supervisor holding the database.
process.on('disconnect', () => {
  stop = true
  setTimeout(() => process.exit(1), 30_000).unref()
})

async function run(job: TrainJob): Promise<void> {
  const backend = await initBackend(job.backend)
  if (job.mode === 'doctor') return send({ type: 'doctor', backend })
  if (job.mode === 'estimate')
    return send({ type: 'estimate', backend, imagesPerSecond: await measurePresetSpeeds(job) })
  if (job.mode === 'sample') return sample(job)
  if (job.mode === 'studio') return studioSession(job, backend)
  if (job.mode === 'generate') return runGeneration(job, backend, send, () => stop)
  if (job.mode === 'evaluate') return runEvaluation(job, backend, send, () => stop)
  if (job.mode === 'audit') return runAudit(job, backend, send, () => stop)
  if (job.mode === 'export-generator')
    return send({
      type: 'generator-exported',
      files: await exportGenerator(job.checkpointDir, job.out),
    })

  if (job.mode === 'forecast') {
    // a run trained elsewhere (the GPU window): the forecast from its written checkpoints
    const data = readData(job)
    return sendForecast(
      { data, split: splitIndices(data.labels, job.settings.validationSplit, job.settings.seed) },
      job.runDir,
    )
  }
  const data = readData(job)
  const trainer =
    job.settings.model === 'vqvae'
      ? new VqTrainer(data, job.settings)
      : new Trainer(data, job.settings)
  let best: number | null = null
  if (job.resumeFrom) best = (await restoreTrainer(trainer, job.resumeFrom)).bestValLoss
  send({
    type: 'started',
    backend,
    trainImages: trainer.split.train.length,
    valImages: trainer.split.val.length,
    epoch: trainer.epoch,
  })
  await runLoop(trainer, best, {
    send,
    save: async (kind, bestValLoss, quick) => {
      const dir = join(job.runDir, kind)
      try {
        await saveCheckpoint(trainer, dir, bestValLoss, quick)
      } catch (err) {
        if (!isDiskFull(err)) throw err
        throw Object.assign(new Error(`could not write the ${kind} checkpoint (${dir})`), {
          code: 'ENOSPC',
        })
      }
      send({ type: 'checkpoint', kind, epoch: trainer.epoch, dir, bestValLoss })
    },
    previews: async (seed) => {
      await writePreviews(trainer, job.runDir, seed)
      send({ type: 'preview', epoch: trainer.epoch })
    },
    forecast: async () => sendForecast(trainer, job.runDir),
    stopped: () => stop,
    lastEvery: 1000 * Number(process.env.SYNTHFOLD_LAST_CHECKPOINT_SECONDS ?? 60),
  })
}

function readData(job: Extract<TrainJob, { mode: 'train' | 'forecast' }>) {
  const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
  try {
    return loadTrainingData(db, job.home, job.datasetId, job.excludeHeldOut ? 'exclude' : 'include')
  } finally {
    db.close()
  }
}

/**
 * What a default generation from the finished run is likely to give per class, measured on the
 * checkpoint a generation uses by default (the best one). A forecast that fails costs the run
 * nothing: the run page then simply has none.
 */
function sendForecast(
  trainer: Pick<Trainer | VqTrainer, 'data' | 'split'>,
  runDir: string,
): void {
  const kind = existsSync(join(runDir, 'best', 'checkpoint.json')) ? 'best' : 'last'
  let gen: Generator | null = null
  try {
    gen = Generator.load(join(runDir, kind))
    const forecast = forecastRun(gen, trainer.data, trainer.split.val, {
      kind,
      epoch: gen.meta.epoch,
    })
    send({ type: 'forecast', forecast })
  } catch (err) {
    process.stderr.write(`forecast skipped: ${err instanceof Error ? err.message : String(err)}\n`)
  } finally {
    gen?.dispose()
  }
}

async function sample(job: Extract<TrainJob, { mode: 'sample' }>): Promise<void> {
  const gen = Generator.load(job.checkpointDir)
  const { size, channels } = gen.meta.shape
  const { pixels, latents } = gen.sample(job.classIndex, job.n, job.temperature, job.seed)
  mkdirSync(job.outDir, { recursive: true })
  const name = gen.classNames[job.classIndex].replace(/[^\p{L}\p{N}_-]+/gu, '_')
  const files: string[] = []
  for (let i = 0; i < pixels.length; i++) {
    const file = join(job.outDir, `${name}-seed${job.seed}-${String(i).padStart(4, '0')}.png`)
    await sharp(Buffer.from(pixels[i]), {
      raw: { width: size, height: size, channels: channels as 1 | 3 | 4 },
    })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .png()
      .toFile(file)
    files.push(file)
  }
  gen.dispose()
  send({ type: 'sampled', files, latents: latents.map((z) => Array.from(z)) })
}

/**
 * Serves studio requests one at a time until the parent closes the session (or goes away): a
 * request's failure is its own answer, and the session stays up for the next one.
 */
async function studioSession(job: StudioJob, backend: Awaited<ReturnType<typeof initBackend>>) {
  const session = StudioSession.open(job)
  const queue: Extract<ToTrainer, { type: 'studio' }>[] = []
  const cancelled = new Set<number>()
  let wake: (() => void) | null = null
  let closed = false
  studio = (m) => {
    if (m.type === 'studio') queue.push(m)
    else if (m.type === 'studio-cancel') cancelled.add(m.id)
    else if (m.type === 'studio-close') closed = true
    wake?.()
  }
  process.on('disconnect', () => {
    closed = true
    wake?.()
  })
  const serve = async (req: Extract<ToTrainer, { type: 'studio' }>): Promise<void> => {
    if (cancelled.delete(req.id))
      return send({
        type: 'studio-error',
        id: req.id,
        error: { message: 'cancelled', cancelled: true },
      })
    let lastSent = 0
    try {
      const value = await session.handle(
        req.request,
        (phase, done, total) => {
          const now = Date.now()
          if (now - lastSent < 200 && done !== total) return
          lastSent = now
          send({ type: 'studio-progress', id: req.id, phase, done, total })
        },
        () => closed || cancelled.has(req.id),
      )
      send({ type: 'studio-reply', id: req.id, value })
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err))
      send({
        type: 'studio-error',
        id: req.id,
        error: { message: e.message, cancelled: err instanceof CancelledError },
      })
    }
    cancelled.delete(req.id)
  }
  let maps: Promise<void> = Promise.resolve()
  send({ type: 'studio-ready', backend, latentDim: session.gen.meta.shape.latentDim })
  try {
    while (!closed) {
      const next = queue.shift()
      if (!next) {
        await new Promise<void>((r) => (wake = r))
        wake = null
        continue
      }
      // A map takes seconds to minutes but yields between batches and epochs: it runs beside
      // the loop (one map at a time), so a slider's decode is answered in between.
      if (next.request.kind === 'map') {
        const req = next
        maps = maps.then(() => serve(req))
      } else await serve(next)
    }
    await maps
  } finally {
    studio = null
    session.dispose()
  }
}
