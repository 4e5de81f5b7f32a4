import { fork, type ChildProcess } from 'node:child_process'
import type { FromTrainer, TrainJob } from './train-protocol'
import { workerFile } from './worker-file'

export interface TrainerProcess {
  child: ChildProcess
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
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): TrainerProcess {
  const spec = workerFile('train-worker')
  const child = fork(spec.file, [], {
    execArgv: spec.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  })
  let tail = ''
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000)
  })
  child.stdout?.resume()
  child.on('message', (m: FromTrainer) => onMessage(m))
  // A send racing the process's exit fails with EPIPE; the exit handler reports what matters.
  child.on('error', () => undefined)
  let exited = false
  child.once('exit', (code, signal) => {
    exited = true
    onExit(code, signal)
  })
  child.send({ type: 'start', job })
  return {
    child,
    stderrTail: () => tail.trim().split('\n').slice(-5).join('\n'),
    cancel: () => {
      if (exited) return
      if (child.connected) child.send({ type: 'cancel' }, () => undefined)
      // A process that does not stop within a few seconds is ended.
      setTimeout(() => !exited && child.kill('SIGKILL'), 15_000).unref()
    },
  }
}

/** Runs a short job (sample, doctor) to its single answer. */
export function runTrainerJob<T extends FromTrainer['type']>(
  job: TrainJob,
  want: T,
): Promise<Extract<FromTrainer, { type: T }>> {
  return new Promise((resolve, reject) => {
    let answered = false
    const proc = startTrainerProcess(
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
              `The worker process stopped (${signal ?? `exit code ${code}`}). ${proc.stderrTail()}`,
            ),
          )
      },
    )
  })
}
