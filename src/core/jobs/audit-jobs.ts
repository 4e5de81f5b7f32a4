import { AppError } from '../../shared/result'
import type { AuditEvent, AuditSummary } from '../../shared/audit'
import type { FromTrainer } from '../../shared/ml-protocol'
import type { AuditsRepo } from '../db/audits-repo'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { RunsRepo } from '../db/runs-repo'
import { etaSeconds, JobSupervisor, type Ended } from './job-supervisor'
import type { SpawnWorker } from './worker-process'

/**
 * The supervisor of audits: one ML process per audit, the only writer of their rows. The process
 * reads the database; the scores come back as messages.
 */
export class AuditManager {
  private readonly jobs: JobSupervisor<{ method: string }>

  constructor(
    private readonly ctx: {
      audits: AuditsRepo
      runs: RunsRepo
      datasets: DatasetsRepo
      isTraining: (runId: number) => boolean
      home: string
      dbPath: string
      spawn?: SpawnWorker
    },
    private readonly emit: (e: AuditEvent) => void,
  ) {
    const { audits } = ctx
    this.jobs = new JobSupervisor(
      {
        noun: 'audit',
        exists: (id) => !!audits.get(id),
        markRunning: (id, pid) => audits.markRunning(id, pid),
        emitStatus: (id) => this.emit({ type: 'status', audit: this.get(id) }),
        onMessage: (id, live, m) => this.onMessage(id, live.key, live.started, m),
        completed: (id, o, seconds) =>
          audits.finish(id, 'completed', { method: o.method, seconds }),
        cancelled: (id, seconds) => audits.finish(id, 'cancelled', { seconds }),
        failed: (id, error, seconds) => audits.finish(id, 'failed', { seconds, error }),
      },
      ctx.spawn,
    )
  }

  get(id: number): AuditSummary {
    const a = this.ctx.audits.get(id)
    if (!a) throw new AppError('not_found', `No audit with id ${id}.`)
    return a
  }

  /** The run's newest audit (running or not) and its newest completed one. */
  latest(runId: number): { latest: AuditSummary | null; completed: AuditSummary | null } {
    this.run(runId)
    return {
      latest: this.ctx.audits.latest(runId),
      completed: this.ctx.audits.latest(runId, true),
    }
  }

  private run(runId: number) {
    const run = this.ctx.runs.get(runId)
    if (!run) throw new AppError('not_found', `No run with id ${runId}.`)
    return run
  }

  start(a: { runId: number }): AuditSummary {
    const run = this.run(a.runId)
    if (this.ctx.isTraining(run.id))
      throw new AppError('conflict', 'This run is still training; audit it once it ends.')
    if (this.isAuditing(run.id))
      throw new AppError('conflict', 'This run is already being audited.')
    const ck = this.ctx.runs.checkpoint(run.id, 'best') ?? this.ctx.runs.checkpoint(run.id, 'last')
    if (!ck)
      throw new AppError(
        'invalid_argument',
        `Run ${run.id} has no checkpoint to audit with yet; let it train for an epoch first.`,
      )
    const kind = this.ctx.runs.checkpoint(run.id, 'best') ? 'best' : 'last'
    const ds = this.ctx.datasets.get(run.datasetId)
    if (!ds) throw new AppError('not_found', `The dataset of run ${run.id} is gone.`)
    if (ds.status === 'importing')
      throw new AppError(
        'conflict',
        'This dataset is being imported again; audit it once the import ends.',
      )
    const id = this.ctx.audits.create({
      runId: run.id,
      datasetId: run.datasetId,
      checkpoint: { kind, epoch: ck.epoch },
    })
    this.jobs.launch(id, run.id, {
      mode: 'audit',
      auditId: id,
      dbPath: this.ctx.dbPath,
      home: this.ctx.home,
      datasetId: run.datasetId,
      checkpointDir: ck.path,
      backend: 'auto',
    })
    return this.get(id)
  }

  cancel(id: number): boolean {
    if (this.jobs.cancel(id)) return true
    this.get(id) // not_found for an id that names nothing
    return false
  }

  /** Whether an audit of this run is running (the run must not be deleted meanwhile). */
  isAuditing(runId: number): boolean {
    return this.jobs.isBusy(runId)
  }

  shutdown(): Promise<void> {
    return this.jobs.shutdown()
  }

  private onMessage(
    id: number,
    runId: number,
    started: number,
    m: FromTrainer,
  ): Ended<{ method: string }> | undefined {
    if (m.type === 'audit-started') {
      this.ctx.audits.setStarted(id, m.classNames)
      this.emit({ type: 'status', audit: this.get(id) })
    } else if (m.type === 'audit-progress') {
      // scoring is most of the time; the neighbour pass is reported as its own phase
      this.emit({
        type: 'progress',
        progress: {
          auditId: id,
          runId,
          phase: m.phase,
          done: m.done,
          of: m.of,
          etaSeconds: m.phase === 'scoring' ? etaSeconds(started, m.done, m.of) : null,
        },
      })
    } else if (m.type === 'audit-rows') this.ctx.audits.addRows(id, m.rows)
    else if (m.type === 'audit-done') return { status: m.outcome, method: m.method }
    return undefined
  }
}
