import type { FromTrainer, TrainJob } from '../../shared/ml-protocol'
import { startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { SpawnWorker } from './worker-process'

export type Ended<Outcome> = Outcome & { status: 'completed' | 'cancelled' }

/** One job's process and what is known of it while it runs. */
export interface LiveJob<Outcome> {
  proc: TrainerProcess
  /** What the job works on (a run, a generation): one live job per key at a time. */
  key: number
  cancelRequested: boolean
  started: number
  /** Set by the job's own "done" message; a process that exits without one failed. */
  outcome: Ended<Outcome> | null
  ended: Promise<void>
}

/** How one kind of job (audits, evaluations) keeps its rows: the part that differs per kind. */
export interface JobRows<Outcome> {
  /** In error messages: "The audit process stopped unexpectedly". */
  noun: string
  exists(id: number): boolean
  markRunning(id: number, pid: number): void
  emitStatus(id: number): void
  /** Handles a message; returns the job's outcome when the message is its "done". */
  onMessage(id: number, live: LiveJob<Outcome>, m: FromTrainer): Ended<Outcome> | undefined
  completed(id: number, outcome: Outcome, seconds: number): void
  cancelled(id: number, seconds: number): void
  failed(id: number, error: string, seconds: number): void
}

/**
 * The supervisor shared by one-process-per-job managers (audits, downstream checks): starts the
 * ML process, routes its messages, cancels (with the launcher's kill after a grace period), and
 * records exactly one ending per job however the process stopped. The rows live in the database
 * and only this supervisor writes the job's status.
 */
export class JobSupervisor<Outcome> {
  private readonly live = new Map<number, LiveJob<Outcome>>()

  constructor(
    private readonly rows: JobRows<Outcome>,
    private readonly spawn?: SpawnWorker,
  ) {}

  /** Cancels a live job; false when the job is not running here. */
  cancel(id: number): boolean {
    const l = this.live.get(id)
    if (!l) return false
    l.cancelRequested = true
    l.proc.cancel()
    return true
  }

  /** Whether a job on this key is still working (its subject must not be deleted meanwhile). */
  isBusy(key: number): boolean {
    return [...this.live.values()].some((l) => !l.outcome && l.key === key)
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([id, l]) => {
        if (!l.outcome) this.cancel(id)
        return l.ended
      }),
    )
  }

  launch(id: number, key: number, job: TrainJob): void {
    let ended = (): void => undefined
    const live: LiveJob<Outcome> = {
      proc: undefined as unknown as TrainerProcess,
      key,
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
        else if (!this.rows.exists(id)) {
          // its row is gone (the run, generation or dataset was deleted): stop the work
          live.proc.cancel()
        } else {
          const outcome = this.rows.onMessage(id, live, m)
          if (outcome) live.outcome = outcome
        }
      },
      (code, signal) => {
        this.live.delete(id)
        try {
          this.finish(id, live, error, code, signal)
          this.rows.emitStatus(id)
        } catch {
          // the row is gone or the database takes no more writes
        }
        ended()
      },
      this.spawn,
    )
    this.live.set(id, live)
    this.rows.markRunning(id, live.proc.proc.pid ?? 0)
    this.rows.emitStatus(id)
  }

  private finish(
    id: number,
    live: LiveJob<Outcome>,
    error: string | null,
    code: number | null,
    signal: string | null,
  ): void {
    const seconds = (Date.now() - live.started) / 1000
    if (live.outcome?.status === 'completed') this.rows.completed(id, live.outcome, seconds)
    else if (live.outcome?.status === 'cancelled' || live.cancelRequested)
      this.rows.cancelled(id, seconds)
    else {
      const tail = live.proc.stderrTail()
      this.rows.failed(
        id,
        error ??
          `The ${this.rows.noun} process stopped unexpectedly (${signal ?? `exit code ${code}`}).${tail ? ` Last output: ${tail}` : ''}`,
        seconds,
      )
    }
  }
}

/** The ETA of `done` of `of` steps begun at `started` (ms), or null before the first step. */
export function etaSeconds(started: number, done: number, of: number): number | null {
  if (done <= 0) return null
  return (((Date.now() - started) / 1000) * (of - done)) / done
}
