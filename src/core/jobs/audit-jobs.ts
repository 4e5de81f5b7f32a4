import { AppError } from '../../shared/result'
import type { AuditEvent, AuditSummary } from '../../shared/audit'
import type { AuditJob, FromTrainer } from '../../shared/ml-protocol'
import type { AuditsRepo } from '../db/audits-repo'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { RunsRepo } from '../db/runs-repo'
import { startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { SpawnWorker } from './worker-process'

interface Live {
  proc: TrainerProcess
  runId: number
  cancelRequested: boolean
  started: number
  outcome: { status: 'completed' | 'cancelled'; method: string } | null
  ended: Promise<void>
}

/**
 * The supervisor of audits: one ML process per audit, the only writer of their rows. The process
 * reads the database; the scores come back as messages.
 */
export class AuditManager {
  private readonly live = new Map<number, Live>()

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
  ) {}

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
    this.launch(id, run.id, {
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
    const l = this.live.get(id)
    if (!l) {
      this.get(id)
      return false
    }
    l.cancelRequested = true
    l.proc.cancel()
    return true
  }

  /** Whether an audit of this run is running (the run must not be deleted meanwhile). */
  isAuditing(runId: number): boolean {
    return [...this.live.values()].some((l) => !l.outcome && l.runId === runId)
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([id, l]) => {
        if (!l.outcome) this.cancel(id)
        return l.ended
      }),
    )
  }

  private launch(id: number, runId: number, job: AuditJob): void {
    let ended = (): void => undefined
    const live: Live = {
      proc: undefined as unknown as TrainerProcess,
      runId,
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
        else if (!this.ctx.audits.get(id)) live.proc.cancel()
        else this.onMessage(id, live, m)
      },
      (code, signal) => {
        this.live.delete(id)
        try {
          this.finish(id, live, error, code, signal)
          this.emit({ type: 'status', audit: this.get(id) })
        } catch {
          // the row is gone (its run was deleted) or the database takes no more writes
        }
        ended()
      },
      this.ctx.spawn,
    )
    this.live.set(id, live)
    this.ctx.audits.markRunning(id, live.proc.proc.pid ?? 0)
    this.emit({ type: 'status', audit: this.get(id) })
  }

  private finish(
    id: number,
    live: Live,
    error: string | null,
    code: number | null,
    signal: string | null,
  ): void {
    const seconds = (Date.now() - live.started) / 1000
    if (live.outcome?.status === 'completed')
      this.ctx.audits.finish(id, 'completed', { method: live.outcome.method, seconds })
    else if (live.outcome?.status === 'cancelled' || live.cancelRequested)
      this.ctx.audits.finish(id, 'cancelled', { seconds })
    else {
      const tail = live.proc.stderrTail()
      this.ctx.audits.finish(id, 'failed', {
        seconds,
        error:
          error ??
          `The audit process stopped unexpectedly (${signal ?? `exit code ${code}`}).${tail ? ` Last output: ${tail}` : ''}`,
      })
    }
  }

  private onMessage(id: number, live: Live, m: FromTrainer): void {
    if (m.type === 'audit-started') {
      this.ctx.audits.setStarted(id, m.classNames)
      this.emit({ type: 'status', audit: this.get(id) })
    } else if (m.type === 'audit-progress') {
      // scoring is most of the time; the neighbour pass is reported as its own phase
      const elapsed = (Date.now() - live.started) / 1000
      this.emit({
        type: 'progress',
        progress: {
          auditId: id,
          runId: live.runId,
          phase: m.phase,
          done: m.done,
          of: m.of,
          etaSeconds:
            m.phase === 'scoring' && m.done > 0 ? (elapsed / m.done) * (m.of - m.done) : null,
        },
      })
    } else if (m.type === 'audit-rows') this.ctx.audits.addRows(id, m.rows)
    else if (m.type === 'audit-done') live.outcome = { status: m.outcome, method: m.method }
  }
}
