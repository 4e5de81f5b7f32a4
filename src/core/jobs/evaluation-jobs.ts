import { join } from 'node:path'
import { AppError } from '../../shared/result'
import {
  bestArm,
  DEFAULT_EVALUATION_SEEDS,
  verdict,
  type EvaluationEvent,
  type EvaluationSummary,
} from '../../shared/evaluation'
import type { EvaluateJob, FromTrainer } from '../../shared/ml-protocol'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { EvaluationsRepo } from '../db/evaluations-repo'
import type { GenerationsRepo } from '../db/generations-repo'
import type { RunsRepo } from '../db/runs-repo'
import type { SamplesRepo } from '../db/samples-repo'
import { startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { SpawnWorker } from './worker-process'

interface Live {
  proc: TrainerProcess
  generationId: number
  cancelRequested: boolean
  started: number
  outcome: { status: 'completed' | 'cancelled'; error: null } | null
  ended: Promise<void>
}

/**
 * The supervisor of downstream checks: one ML process per evaluation, the only writer of their
 * rows. The process reads the database; results come back as messages.
 */
export class EvaluationManager {
  private readonly live = new Map<number, Live>()

  constructor(
    private readonly ctx: {
      evaluations: EvaluationsRepo
      gens: GenerationsRepo
      samples: SamplesRepo
      runs: RunsRepo
      datasets: DatasetsRepo
      generationFolder: (id: number) => string
      home: string
      dbPath: string
      spawn?: SpawnWorker
    },
    private readonly emit: (e: EvaluationEvent) => void,
  ) {}

  get(id: number): EvaluationSummary {
    const e = this.ctx.evaluations.get(id)
    if (!e) throw new AppError('not_found', `No evaluation with id ${id}.`)
    return e
  }

  list(generationId: number): EvaluationSummary[] {
    this.generation(generationId)
    return this.ctx.evaluations.list(generationId)
  }

  private generation(id: number) {
    const g = this.ctx.gens.get(id, this.ctx.generationFolder)
    if (!g) throw new AppError('not_found', `No generation with id ${id}.`)
    return g
  }

  start(a: { generationId: number; seeds?: number; epochs?: number }): EvaluationSummary {
    const g = this.generation(a.generationId)
    if (g.status === 'running')
      throw new AppError('conflict', 'This generation is still running; evaluate it once it ends.')
    if (this.isEvaluating(a.generationId))
      throw new AppError('conflict', 'This generation is already being evaluated.')
    // the check reads the dataset's images in the worker: not while a re-import rewrites them
    if (this.ctx.datasets.get(g.datasetId)?.status === 'importing')
      throw new AppError(
        'conflict',
        'This dataset is being imported again; evaluate once the import ends.',
      )
    const samples = this.ctx.samples.acceptedSamples(a.generationId)
    if (!samples.length)
      throw new AppError(
        'invalid_argument',
        'This generation has no accepted samples to evaluate: accept some first.',
      )
    const split = this.ctx.datasets.ensureHeldOut(g.datasetId)
    if (!split.some((c) => c.count > 0))
      throw new AppError(
        'invalid_argument',
        'This dataset is too small to hold images out for evaluation: every class has fewer than 12 images.',
      )
    const run = this.ctx.runs.get(g.runId)
    const id = this.ctx.evaluations.create({
      generationId: g.id,
      datasetId: g.datasetId,
      seeds: a.seeds ?? DEFAULT_EVALUATION_SEEDS,
      epochs: a.epochs ?? null,
      runExcludedHeldOut: run?.heldOutExcluded ?? false,
    })
    const job: EvaluateJob = {
      mode: 'evaluate',
      evaluationId: id,
      dbPath: this.ctx.dbPath,
      home: this.ctx.home,
      datasetId: g.datasetId,
      classNames: g.classNames,
      samplesDir: join(this.ctx.generationFolder(g.id), 'samples'),
      samples: samples.map((s) => ({ classIndex: s.classIndex, file: s.file })),
      seeds: a.seeds ?? DEFAULT_EVALUATION_SEEDS,
      epochs: a.epochs ?? null,
      backend: 'auto',
    }
    this.launch(id, job)
    return this.get(id)
  }

  cancel(id: number): boolean {
    const l = this.live.get(id)
    if (!l) {
      this.get(id) // not_found for an id that names nothing
      return false
    }
    l.cancelRequested = true
    l.proc.cancel()
    return true
  }

  /** Whether a check of this generation is running (its generation must not be deleted). */
  isEvaluating(generationId: number): boolean {
    return [...this.live.values()].some((l) => !l.outcome && l.generationId === generationId)
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([id, l]) => {
        if (!l.outcome) this.cancel(id)
        return l.ended
      }),
    )
  }

  private launch(id: number, job: EvaluateJob): void {
    let ended = (): void => undefined
    const live: Live = {
      proc: undefined as unknown as TrainerProcess,
      generationId: this.ctx.evaluations.get(id)!.generationId,
      cancelRequested: false,
      started: Date.now(),
      outcome: null,
      ended: new Promise<void>((r) => (ended = r)),
    }
    let error: string | null = null
    live.proc = startTrainerProcess(
      job,
      (m) => {
        if (m.type === 'error') error = m.error.message
        else if (!this.ctx.evaluations.get(id)) {
          // its row is gone (the generation or dataset was deleted): stop the work
          live.proc.cancel()
        } else this.onMessage(id, live, m)
      },
      (code, signal) => {
        this.live.delete(id)
        try {
          this.finish(id, live, error, code, signal)
          this.emit({ type: 'status', evaluation: this.get(id) })
        } catch {
          // the row is gone (its generation was deleted) or the database takes no more writes
        }
        ended()
      },
      this.ctx.spawn,
    )
    this.live.set(id, live)
    this.ctx.evaluations.markRunning(id, live.proc.proc.pid ?? 0)
    this.emit({ type: 'status', evaluation: this.get(id) })
  }

  private finish(
    id: number,
    live: Live,
    error: string | null,
    code: number | null,
    signal: string | null,
  ): void {
    const seconds = (Date.now() - live.started) / 1000
    if (live.outcome?.status === 'completed') {
      const arms = this.get(id).arms
      this.ctx.evaluations.finish(id, 'completed', {
        best: arms.length ? bestArm(arms).name : null,
        verdict: verdict(arms),
        seconds,
      })
    } else if (live.outcome?.status === 'cancelled' || live.cancelRequested) {
      this.ctx.evaluations.finish(id, 'cancelled', { seconds })
    } else {
      const tail = live.proc.stderrTail()
      this.ctx.evaluations.finish(id, 'failed', {
        seconds,
        error:
          error ??
          `The evaluation process stopped unexpectedly (${signal ?? `exit code ${code}`}).${tail ? ` Last output: ${tail}` : ''}`,
      })
    }
  }

  private onMessage(id: number, live: Live, m: FromTrainer): void {
    if (m.type === 'eval-started') {
      this.ctx.evaluations.setStarted(id, m.heldOut, m.syntheticImages)
      this.emit({ type: 'status', evaluation: this.get(id) })
    } else if (m.type === 'eval-progress') {
      if (m.arms.length !== this.get(id).arms.length) {
        this.ctx.evaluations.setArms(id, m.arms)
        this.emit({ type: 'status', evaluation: this.get(id) })
      }
      const elapsed = (Date.now() - live.started) / 1000
      this.emit({
        type: 'progress',
        progress: {
          evaluationId: id,
          done: m.done,
          of: m.of,
          arm: m.arm,
          etaSeconds: m.done > 0 ? (elapsed / m.done) * (m.of - m.done) : null,
        },
      })
    } else if (m.type === 'eval-done') {
      this.ctx.evaluations.setArms(id, m.arms)
      live.outcome = { status: m.outcome, error: null }
    }
  }
}
