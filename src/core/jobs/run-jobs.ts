import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from 'better-sqlite3'
import { AppError } from '../../shared/result'
import type { RunEvent, RunSummary } from '../../shared/runs'
import { channelCount } from '../../shared/types'
import { trainingImages } from '../../shared/held-out'
import {
  formatBudget,
  resolveSettings,
  totalEpochs,
  type TrainSettings,
} from '../../shared/train-settings'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { RunsRepo } from '../db/runs-repo'
import { isPageBackend, type BackendInfo, type BackendName } from '../../shared/backend'
import type { OpenGpuPage } from '../../shared/gpu'
import { assertFolderFree, folderInUse } from '../util/paths'
import { diskFullMessage, isDiskFull } from '../util/disk'
import { runTrainerJob, startTrainerProcess } from './ml-launcher'
import { startGpuRun, type RunTrainer } from './gpu-host'
import type { SpawnWorker } from './worker-process'
import type { FromTrainer } from '../../shared/ml-protocol'

/** Why a run ended at its time budget, for the run page and the CLI. */
function budgetMessage(s: TrainSettings, epochs: number, bestEpoch: number | null): string {
  return (
    `Stopped at the time budget (${formatBudget(s.timeBudgetSeconds)}) after ${epochs} of ${totalEpochs(s)} epochs: ` +
    `training ran slower than planned. ` +
    (bestEpoch === null
      ? 'Its last checkpoint is kept.'
      : `The best checkpoint (epoch ${bestEpoch}) is kept.`)
  )
}

type Outcome = { status: 'completed' | 'cancelled' | 'failed' | 'diverged'; error: string | null }

interface Live {
  proc: RunTrainer
  /** What the process reported before ending; recorded when it has exited. */
  outcome: Outcome | null
  cancelRequested: boolean
  /** Resolves once the process has exited and the run's status is recorded. */
  ended: Promise<void>
}

/**
 * The supervisor of training runs: one process per run, and the only writer of the run's rows.
 * Whatever ends a process (finish, cancel, divergence, crash, SIGKILL) lands as a run status.
 */
export class RunManager {
  private readonly live = new Map<number, Live>()

  constructor(
    private readonly ctx: {
      db: Database
      runs: RunsRepo
      datasets: DatasetsRepo
      home: string
      dbPath: string
      spawn?: SpawnWorker
      /** The desktop app's GPU window (absent in the CLI and the web host: they train on the CPU). */
      openGpuPage?: OpenGpuPage
    },
    private readonly emit: (e: RunEvent) => void,
  ) {}

  runDir(runId: number): string {
    return join(this.ctx.home, 'runs', String(runId))
  }

  async start(
    datasetId: number,
    input: Partial<TrainSettings>,
    backend: BackendName | 'auto' = 'auto',
  ): Promise<RunSummary> {
    this.assertBackend(backend)
    const ds = this.ctx.datasets.get(datasetId)
    if (!ds) throw new AppError('not_found', `No dataset with id ${datasetId}.`)
    if (ds.status === 'importing')
      throw new AppError('conflict', 'This dataset is still being imported.')
    const classes = ds.classes.filter((c) => c.count > 0)
    if (ds.imageCount < 2 || classes.length < 1)
      throw new AppError('invalid_argument', 'This dataset has no images to train on.')
    // the first run of a dataset sets its evaluation split aside
    this.ctx.datasets.ensureHeldOut(datasetId)
    const channels = channelCount(ds.channels)
    const geo = {
      size: ds.size,
      channels,
      imageCount: trainingImages(this.ctx.datasets.get(datasetId)?.classes ?? ds.classes),
    }
    // The epochs are planned from the preset's speed here (measured once a session, usually when
    // the training panel opened); a person's epoch count needs none. Unmeasured, the plan is the
    // step target and the trainer's own clock keeps the time budget.
    let imagesPerSecond: number | null = null
    if (input.epochs === undefined) {
      try {
        const speeds = await this.presetSpeeds({ ...geo, classes: classes.length })
        imagesPerSecond = speeds[input.preset ?? 'balanced']
      } catch {
        imagesPerSecond = null
      }
    }
    const settings = resolveSettings(input, { ...geo, imagesPerSecond })
    const runId = this.ctx.runs.create(
      datasetId,
      settings,
      classes.map((c) => c.name),
    )
    if (folderInUse(this.runDir(runId))) {
      // Left by a run whose row is gone (a replaced database): its checkpoints are not ours to overwrite.
      this.ctx.runs.delete(runId)
      assertFolderFree(this.runDir(runId), 'run')
    }
    this.launch(runId, datasetId, settings, null, backend)
    return this.ctx.runs.get(runId)!
  }

  resume(runId: number, backend: BackendName | 'auto' = 'auto'): RunSummary {
    const run = this.ctx.runs.get(runId)
    if (!run) throw new AppError('not_found', `No run with id ${runId}.`)
    if (this.live.has(runId)) throw new AppError('conflict', `Run ${runId} is already running.`)
    this.assertBackend(backend)
    if (run.status === 'completed')
      throw new AppError('conflict', `Run ${runId} has already finished all its epochs.`)
    const from = this.resumePoint(runId)
    if (!from)
      throw new AppError(
        'conflict',
        `Run ${runId} has no checkpoint to resume from; start a new run instead.`,
      )
    // relabels and exclusions since it started may have emptied one of its classes: its
    // checkpoint's class layout would no longer fit the data
    const ds = this.ctx.datasets.get(run.datasetId)
    const now = (ds?.classes ?? []).filter((c) => c.count > 0).map((c) => c.name)
    if (ds && [...now].sort().join('\n') !== [...run.classNames].sort().join('\n'))
      throw new AppError(
        'conflict',
        `Run ${runId} trained on the classes ${run.classNames.join(', ')}; the dataset now has ${now.join(', ') || 'none'} (after relabels or exclusions). Start a new run instead.`,
      )
    this.launch(runId, run.datasetId, run.settings, from, backend)
    return this.ctx.runs.get(runId)!
  }

  /**
   * The newest checkpoint on disk that can be read: `last` usually, but `best` when the process
   * died before its first `last` (or after a `best` newer than it). Both hold optimiser state.
   */
  private resumePoint(runId: number): string | null {
    let found: { path: string; epoch: number } | null = null
    for (const kind of ['last', 'best'] as const) {
      // also one the process wrote on its way out after its supervisor died (never recorded)
      const path = this.ctx.runs.checkpoint(runId, kind)?.path ?? join(this.runDir(runId), kind)
      let epoch: number
      try {
        epoch = (
          JSON.parse(readFileSync(join(path, 'checkpoint.json'), 'utf8')) as {
            epoch: number
          }
        ).epoch
      } catch {
        continue // missing or damaged
      }
      if (!found || epoch > found.epoch) found = { path, epoch }
    }
    return found?.path ?? null
  }

  cancel(runId: number): boolean {
    const l = this.live.get(runId)
    if (!l) return false
    l.cancelRequested = true
    l.proc.cancel()
    return true
  }

  /** Runs whose process is still going. */
  liveRunIds(): number[] {
    return [...this.live.keys()]
  }

  isLive(runId: number): boolean {
    return this.live.has(runId)
  }

  delete(runId: number): void {
    if (this.live.has(runId)) throw new AppError('conflict', 'Cancel the run before deleting it.')
    this.ctx.runs.delete(runId)
    rmSync(this.runDir(runId), { recursive: true, force: true })
  }

  async sample(o: {
    runId: number
    classIndex: number
    n: number
    temperature: number
    seed: number
    outDir: string
    checkpoint: 'best' | 'last'
  }) {
    const ck =
      this.ctx.runs.checkpoint(o.runId, o.checkpoint) ??
      this.ctx.runs.checkpoint(o.runId, o.checkpoint === 'best' ? 'last' : 'best')
    if (!ck) throw new AppError('conflict', `Run ${o.runId} has no checkpoint yet.`)
    const m = await runTrainerJob(
      {
        mode: 'sample',
        checkpointDir: ck.path,
        classIndex: o.classIndex,
        n: o.n,
        temperature: o.temperature,
        seed: o.seed,
        outDir: o.outDir,
        backend: 'auto',
      },
      'sampled',
      this.ctx.spawn,
    )
    return {
      files: m.files,
      latents: m.latents,
      checkpoint: { kind: o.checkpoint, epoch: ck.epoch },
    }
  }

  /** Writes the run's decoder as a TensorFlow.js layers model plus its class names and prior. */
  async exportGenerator(runId: number, out: string, checkpoint: 'best' | 'last') {
    const ck =
      this.ctx.runs.checkpoint(runId, checkpoint) ??
      this.ctx.runs.checkpoint(runId, checkpoint === 'best' ? 'last' : 'best')
    if (!ck) throw new AppError('conflict', `Run ${runId} has no checkpoint yet.`)
    const m = await runTrainerJob(
      { mode: 'export-generator', checkpointDir: ck.path, out, backend: 'auto' },
      'generator-exported',
      this.ctx.spawn,
    )
    return { files: m.files, epoch: ck.epoch }
  }

  private readonly speeds = new Map<
    string,
    Promise<Record<'fast' | 'balanced' | 'quality', number>>
  >()

  /** Preset speeds on this machine for a dataset's geometry, measured once per app session. */
  presetSpeeds(geo: { size: number; channels: number; classes: number; imageCount: number }) {
    const key = `${geo.size}x${geo.channels}x${geo.classes}`
    let found = this.speeds.get(key)
    if (!found) {
      found = runTrainerJob(
        { mode: 'estimate', backend: 'auto', ...geo },
        'estimate',
        this.ctx.spawn,
      ).then((m) => m.imagesPerSecond)
      found.catch(() => this.speeds.delete(key))
      this.speeds.set(key, found)
    }
    return found
  }

  async doctor(backend: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
    return (await runTrainerJob({ mode: 'doctor', backend }, 'doctor', this.ctx.spawn)).backend
  }

  /** Cancels running runs (each saves a checkpoint) and waits for their processes to end. */
  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([id, l]) => {
        if (!l.outcome) this.cancel(id)
        return l.ended
      }),
    )
  }

  /** webgpu and webgl train only in the desktop app's GPU window. */
  private assertBackend(backend: BackendName | 'auto'): void {
    if (isPageBackend(backend) && !this.ctx.openGpuPage)
      throw new AppError(
        'invalid_argument',
        `The ${backend} backend trains only in the desktop app, which owns the GPU (its hidden GPU window); the CLI and the web host train on the CPU: use auto, tensorflow, wasm or cpu.`,
      )
  }

  private launch(
    runId: number,
    datasetId: number,
    settings: TrainSettings,
    resumeFrom: string | null,
    backend: BackendName | 'auto',
  ): void {
    const job = {
      mode: 'train' as const,
      runId,
      dbPath: this.ctx.dbPath,
      home: this.ctx.home,
      datasetId,
      settings,
      runDir: this.runDir(runId),
      resumeFrom,
      backend,
      excludeHeldOut: this.ctx.runs.get(runId)?.heldOutExcluded ?? true,
    }
    let ended = (): void => undefined
    const live: Live = {
      proc: undefined as unknown as RunTrainer,
      outcome: null,
      cancelRequested: false,
      ended: new Promise<void>((resolve) => (ended = resolve)),
    }
    const onMessage = (m: FromTrainer): void => this.onMessage(runId, settings, live, m)
    const onExit = (code: number | null, signal: string | null): void => {
      // The run counts as running until its process is gone, so a resume never meets a live one.
      this.live.delete(runId)
      const how = signal ? `it was ended by ${signal}` : `it exited with code ${code}`
      const tail = live.proc.stderrTail()
      const outcome: Outcome = live.outcome ?? {
        status: 'failed',
        error: `The training process stopped unexpectedly (${how}).${tail ? ` Last output: ${tail}` : ''}`,
      }
      void this.record(runId, outcome).then(ended)
    }
    // The desktop app asks its GPU window first unless a CPU backend was asked for; the host
    // falls back to the ML process where the backend chain says so.
    const openPage = this.ctx.openGpuPage
    if (openPage && (backend === 'auto' || isPageBackend(backend))) {
      live.proc = startGpuRun(job, onMessage, onExit, {
        openPage,
        spawn: this.ctx.spawn,
        onSpawned: (pid) => {
          if (this.live.has(runId)) this.ctx.runs.markStarted(runId, pid ?? 0)
        },
      })
    } else {
      const p = startTrainerProcess(job, onMessage, onExit, this.ctx.spawn)
      live.proc = { pid: () => p.proc.pid, stderrTail: p.stderrTail, cancel: p.cancel }
    }
    this.live.set(runId, live)
    this.ctx.runs.markStarted(runId, live.proc.pid() ?? 0)
    this.emit({ type: 'status', run: this.ctx.runs.get(runId)! })
  }

  /**
   * Writes a run's outcome, retrying for a few seconds when the disk is full (the process that
   * just ended may have freed its temporary files). Never throws: a write that keeps failing leaves
   * the row to the next start's recovery, and the outcome is still reported.
   */
  private async record(runId: number, outcome: Outcome): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.ctx.runs.finish(runId, outcome.status, outcome.error)
        this.emit({ type: 'status', run: this.ctx.runs.get(runId)! })
        return
      } catch (err) {
        if (!isDiskFull(err) || attempt >= 10) {
          let run: RunSummary | undefined
          try {
            run = this.ctx.runs.get(runId)
          } catch {
            run = undefined
          }
          if (run) this.emit({ type: 'status', run: { ...run, ...outcome } })
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
  }

  /** A message the run's row could not take (a full disk): the run stops and fails with why. */
  private unrecorded(live: Live, err: unknown): void {
    const error = isDiskFull(err)
      ? diskFullMessage(
          'the database could not record the run',
          'The run keeps the checkpoints it had.',
        )
      : `The database could not record the run: ${err instanceof Error ? err.message : String(err)}`
    this.report(live, 'failed', error)
    if (!live.cancelRequested) {
      live.cancelRequested = true
      live.proc.cancel()
    }
  }

  private onMessage(runId: number, s: TrainSettings, live: Live, m: FromTrainer): void {
    try {
      this.handle(runId, s, live, m)
    } catch (err) {
      this.unrecorded(live, err)
    }
  }

  private handle(runId: number, s: TrainSettings, live: Live, m: FromTrainer): void {
    const runs = this.ctx.runs
    if (m.type === 'started') {
      runs.setBackend(
        runId,
        m.backend.backend,
        m.backend.device,
        m.backend.notes,
        m.trainImages,
        m.valImages,
      )
      this.emit({ type: 'status', run: runs.get(runId)! })
    } else if (m.type === 'progress') {
      const remaining = m.batches - m.batch + (totalEpochs(s) - m.epoch - 1) * m.batches
      const eta = m.imagesPerSecond > 0 ? (remaining * s.batchSize) / m.imagesPerSecond : null
      this.emit({
        type: 'progress',
        progress: {
          runId,
          epoch: m.epoch,
          epochs: totalEpochs(s),
          batch: m.batch,
          batches: m.batches,
          loss: m.loss,
          imagesPerSecond: m.imagesPerSecond,
          etaSeconds: eta,
          ...(m.stage ? { stage: m.stage } : {}),
        },
      })
    } else if (m.type === 'epoch') {
      runs.addEpoch(runId, m.metrics)
      this.emit({ type: 'epoch', runId, metrics: m.metrics })
    } else if (m.type === 'preview') {
      this.emit({ type: 'preview', runId, epoch: m.epoch })
    } else if (m.type === 'checkpoint') {
      runs.setCheckpoint(runId, m.kind, m.epoch, m.dir, m.bestValLoss)
    } else if (m.type === 'forecast') {
      runs.setForecast(runId, m.forecast)
    } else if (m.type === 'done') {
      this.report(
        live,
        m.outcome === 'cancelled' ? 'cancelled' : 'completed',
        m.outcome === 'early-stopped'
          ? `Stopped early after ${m.epochs} epochs: the validation loss stopped improving.`
          : m.outcome === 'time-budget'
            ? budgetMessage(s, m.epochs, runs.checkpoint(runId, 'best')?.epoch ?? null)
            : null,
      )
    } else if (m.type === 'error') {
      this.report(live, m.diverged ? 'diverged' : 'failed', m.error.message)
    }
  }

  private report(live: Live, status: Outcome['status'], error: string | null): void {
    live.outcome ??= { status, error }
  }
}
