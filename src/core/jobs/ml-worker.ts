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
import { writePreviews } from '../training/preview'
import { measurePresetSpeeds } from '../training/estimate'
import { Generator } from '../generation/generator'
import { DivergedError, Trainer } from '../training/trainer'
import { VqTrainer } from '../training/vq-trainer'
import { totalEpochs } from '../../shared/train-settings'
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

  const db = new BetterSqlite3(job.dbPath, { readonly: true, fileMustExist: true })
  const data = loadTrainingData(
    db,
    job.home,
    job.datasetId,
    job.excludeHeldOut ? 'exclude' : 'include',
  )
  db.close()
  const trainer =
    job.settings.model === 'vqvae'
      ? new VqTrainer(data, job.settings)
      : new Trainer(data, job.settings)
  const vq = trainer instanceof VqTrainer ? trainer : null
  let best: number | null = null
  if (job.resumeFrom) best = (await restoreTrainer(trainer, job.resumeFrom)).bestValLoss
  // A VQ-VAE's best checkpoint in stage 2 is the best prior: stage 1's best (by reconstruction,
  // with an untrained prior) gives way to the first prior epoch.
  if (vq && vq.epoch === job.settings.epochs) best = null
  send({
    type: 'started',
    backend,
    trainImages: trainer.split.train.length,
    valImages: trainer.split.val.length,
    epoch: trainer.epoch,
  })

  const s = job.settings
  // The budget counts wall time over every session of the run: a resumed run has its earlier
  // sessions' seconds from the checkpoint. Settings from before budgets have none (0: no budget).
  const budget = s.timeBudgetSeconds ?? 0
  const epochs = totalEpochs(s)
  const sessionStart = Date.now()
  const trainedBefore = trainer.trainedSeconds
  const clock = (): number =>
    (trainer.trainedSeconds = trainedBefore + (Date.now() - sessionStart) / 1000)
  // Never before a best checkpoint exists: a run stopped in its first epoch would leave nothing
  // to generate from, so a plan whose one epoch is over the budget trains that epoch.
  // A VQ-VAE's budget ends its stage 1 (the prior then trains), and its prior may take half as long
  // again: a run stopped before its prior trained would have nothing to sample from.
  const overBudget = (): boolean =>
    budget > 0 && best !== null && clock() >= (vq && vq.stage === 'prior' ? budget * 1.5 : budget)
  let sinceBest = 0
  let lastSent = 0
  let lastSaved = Date.now()
  const save = async (kind: 'last' | 'best', quick = false): Promise<void> => {
    const dir = join(job.runDir, kind)
    try {
      await saveCheckpoint(trainer, dir, best, quick)
    } catch (err) {
      if (!isDiskFull(err)) throw err
      throw Object.assign(new Error(`could not write the ${kind} checkpoint (${dir})`), {
        code: 'ENOSPC',
      })
    }
    if (kind === 'last') lastSaved = Date.now()
    send({ type: 'checkpoint', kind, epoch: trainer.epoch, dir, bestValLoss: best })
  }
  // However long an epoch, a kill loses at most about this much training: `last` is also written
  // at the first batch or epoch boundary after it has passed.
  const lastEvery = 1000 * Number(process.env.SYNTHFOLD_LAST_CHECKPOINT_SECONDS ?? 60)
  const due = (): boolean => Date.now() - lastSaved >= lastEvery
  const previewEvery = 3000
  let lastPreview = 0
  let previewCost = 0
  // Stopped by the budget (measured speed was off, or the machine got busy): the best checkpoint
  // stays the best, `last` keeps the steps since, and the run counts as done.
  const budgetStop = async (last: 'saved' | 'quick' | 'full'): Promise<void> => {
    if (last !== 'saved') await save('last', last === 'quick')
    sendForecast(trainer, job.runDir)
    send({ type: 'done', outcome: 'time-budget', epochs: trainer.epoch })
  }
  /** Ends a VQ-VAE's stage 1 early: the run goes on to train the prior. */
  const toPrior = (): void => {
    vq!.skipToPrior()
    best = null
    sinceBest = 0
  }
  while (trainer.epoch < epochs) {
    if (overBudget()) {
      if (vq?.stage !== 'vq') return budgetStop('saved')
      toPrior()
    }
    const metrics = await trainer.trainEpoch(
      (p) => {
        const now = Date.now()
        if (now - lastSent < 250 && p.batch !== p.batches) return
        lastSent = now
        send({ type: 'progress', ...p })
      },
      () => stop || overBudget(),
      async () => {
        if (due()) await save('last', true)
      },
    )
    clock()
    if (!metrics && !stop && vq?.stage === 'vq') {
      await save('last', true)
      toPrior()
      continue
    }
    if (!metrics && !stop) return budgetStop('quick')
    if (!metrics) {
      // cancelled: the checkpoint keeps the latent prior fitted at the last epoch's end
      await save('last', true)
      return send({ type: 'done', outcome: 'cancelled', epochs: trainer.epoch })
    }
    send({ type: 'epoch', metrics })
    const score = metrics.valLoss ?? metrics.loss
    const improved = best === null || score < best
    if (improved) {
      best = score
      sinceBest = 0
      await save('best')
    } else sinceBest++
    const savedLast =
      trainer.epoch % s.checkpointEvery === 0 ||
      trainer.epoch === epochs ||
      trainer.epoch === s.epochs ||
      due()
    if (savedLast) await save('last')
    let earlyStop =
      s.earlyStoppingPatience > 0 &&
      sinceBest >= s.earlyStoppingPatience &&
      trainer.split.val.length > 0
    if (vq && (earlyStop || vq.epoch === s.epochs) && vq.epoch <= s.epochs) {
      // stage 1 is over (all its epochs, or early stopping): the prior trains next. `last` is
      // written at the prior's start (epoch = stage 1's epochs), so a kill during the prior's first
      // epoch resumes with the prior, not with more of an autoencoder early stopping ended
      const early = vq.epoch < s.epochs
      toPrior()
      if (early) await save('last')
      earlyStop = false
    }
    const budgetOver = trainer.epoch < epochs && overBudget() && vq?.stage !== 'vq'
    // after the checkpoints, so the previews reuse their latent statistics (a cancel that arrives
    // meanwhile is seen at the next epoch's first batch). A small dataset's epochs take a fraction
    // of a second: previews every epoch would cost it a fifth of its training time, so they are
    // written at most every few seconds, and always at the first and the final epoch.
    const ending = trainer.epoch === epochs || earlyStop || budgetOver
    const firstSamples = vq !== null && vq.priorEpochsDone === 1
    // Previews that cost seconds (a VQ-VAE's prior samples its grids code by code) wait at least
    // four times what the last one took, so they never take more than a fifth of the run.
    const wait = Math.max(previewEvery, 4 * previewCost)
    if (trainer.epoch === 1 || ending || firstSamples || Date.now() - lastPreview >= wait) {
      const began = Date.now()
      await writePreviews(trainer, job.runDir, s.seed + trainer.epoch)
      lastPreview = Date.now()
      previewCost = lastPreview - began
      send({ type: 'preview', epoch: trainer.epoch })
    }
    if (earlyStop) {
      if (!savedLast) await save('last')
      sendForecast(trainer, job.runDir)
      return send({ type: 'done', outcome: 'early-stopped', epochs: trainer.epoch })
    }
    if (budgetOver) return budgetStop(savedLast ? 'saved' : 'full')
  }
  sendForecast(trainer, job.runDir)
  send({ type: 'done', outcome: 'completed', epochs: trainer.epoch })
}

/**
 * What a default generation from the finished run is likely to give per class, measured on the
 * checkpoint a generation uses by default (the best one). A forecast that fails costs the run
 * nothing: the run page then simply has none.
 */
function sendForecast(trainer: Trainer | VqTrainer, runDir: string): void {
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
