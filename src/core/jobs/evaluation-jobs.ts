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
import { etaSeconds, JobSupervisor, type Ended } from './job-supervisor'
import type { SpawnWorker } from './worker-process'

/**
 * The supervisor of downstream checks: one ML process per evaluation, the only writer of their
 * rows. The process reads the database; results come back as messages.
 */
export class EvaluationManager {
  private readonly jobs: JobSupervisor<object>

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
  ) {
    const { evaluations } = ctx
    this.jobs = new JobSupervisor(
      {
        noun: 'evaluation',
        exists: (id) => !!evaluations.get(id),
        markRunning: (id, pid) => evaluations.markRunning(id, pid),
        emitStatus: (id) => this.emit({ type: 'status', evaluation: this.get(id) }),
        onMessage: (id, live, m) => this.onMessage(id, live.started, m),
        completed: (id, _o, seconds) => {
          const arms = this.get(id).arms
          evaluations.finish(id, 'completed', {
            best: arms.length ? bestArm(arms).name : null,
            verdict: verdict(arms),
            seconds,
          })
        },
        cancelled: (id, seconds) => evaluations.finish(id, 'cancelled', { seconds }),
        failed: (id, error, seconds) => evaluations.finish(id, 'failed', { seconds, error }),
      },
      ctx.spawn,
    )
  }

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
    this.jobs.launch(id, g.id, job)
    return this.get(id)
  }

  cancel(id: number): boolean {
    if (this.jobs.cancel(id)) return true
    this.get(id) // not_found for an id that names nothing
    return false
  }

  /** Whether a check of this generation is running (its generation must not be deleted). */
  isEvaluating(generationId: number): boolean {
    return this.jobs.isBusy(generationId)
  }

  shutdown(): Promise<void> {
    return this.jobs.shutdown()
  }

  private onMessage(id: number, started: number, m: FromTrainer): Ended<object> | undefined {
    if (m.type === 'eval-started') {
      this.ctx.evaluations.setStarted(id, m.heldOut, m.syntheticImages)
      this.emit({ type: 'status', evaluation: this.get(id) })
    } else if (m.type === 'eval-progress') {
      if (m.arms.length !== this.get(id).arms.length) {
        this.ctx.evaluations.setArms(id, m.arms)
        this.emit({ type: 'status', evaluation: this.get(id) })
      }
      this.emit({
        type: 'progress',
        progress: {
          evaluationId: id,
          done: m.done,
          of: m.of,
          arm: m.arm,
          etaSeconds: etaSeconds(started, m.done, m.of),
        },
      })
    } else if (m.type === 'eval-done') {
      this.ctx.evaluations.setArms(id, m.arms)
      return { status: m.outcome }
    }
    return undefined
  }
}
