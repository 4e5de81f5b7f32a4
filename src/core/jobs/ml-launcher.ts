import type { FromTrainer, TrainJob } from '../../shared/ml-protocol'
import { workerFile } from '../util/worker-file'
import { forkWorker, type SpawnWorker, type WorkerProcess } from './worker-process'

export interface TrainerProcess {
  proc: WorkerProcess
  /** The last lines the process wrote to stderr, for error reports. */
  stderrTail(): string
  cancel(): void
}

/**
 * Starts one training process for a job. Messages arrive through `onMessage`; `onExit` always
 * fires once, with whatever ended it (normal exit, crash or kill).
 */
export function startTrainerProcess(
  job: TrainJob,
  onMessage: (m: FromTrainer) => void,
  onExit: (code: number | null, signal: string | null) => void,
  spawn: SpawnWorker = forkWorker,
): TrainerProcess {
  const spec = workerFile('ml-worker', import.meta.url)
  const proc = spawn(spec.file, spec.execArgv ?? [])
  let tail = ''
  proc.onStderr((text) => {
    tail = (tail + text).slice(-4000)
  })
  proc.onMessage((m) => onMessage(m as FromTrainer))
  proc.onExit(onExit)
  proc.send({ type: 'start', job })
  return {
    proc,
    stderrTail: () => tail.trim().split('\n').slice(-5).join('\n'),
    cancel: () => {
      if (proc.exited) return
      proc.send({ type: 'cancel' })
      // A process that does not stop within a few seconds is ended.
      setTimeout(() => !proc.exited && proc.kill(), 15_000).unref()
    },
  }
}

/** Runs a short job (sample, doctor) to its single answer. */
export function runTrainerJob<T extends FromTrainer['type']>(
  job: TrainJob,
  want: T,
  spawn: SpawnWorker = forkWorker,
): Promise<Extract<FromTrainer, { type: T }>> {
  return new Promise((resolve, reject) => {
    let answered = false
    const p = startTrainerProcess(
      job,
      (m) => {
        if (m.type === want) {
          answered = true
          resolve(m as Extract<FromTrainer, { type: T }>)
        } else if (m.type === 'error') {
          answered = true
          reject(new Error(m.error.message))
        }
      },
      (code, signal) => {
        if (!answered)
          reject(
            new Error(
              `The worker process stopped (${signal ?? `exit code ${code}`}). ${p.stderrTail()}`,
            ),
          )
      },
      spawn,
    )
  })
}
