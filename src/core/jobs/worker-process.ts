import { fork } from 'node:child_process'

/**
 * A process that runs one worker script and talks by messages: child_process.fork under Node,
 * Electron's utilityProcess in the desktop app (see src/main/utility-process.ts).
 */
export interface WorkerProcess {
  readonly pid: number | undefined
  send(message: unknown): void
  onMessage(listener: (message: unknown) => void): void
  /** Fires once, however the process ended. */
  onExit(listener: (code: number | null, signal: string | null) => void): void
  onStderr(listener: (text: string) => void): void
  kill(): void
  readonly exited: boolean
}

export type SpawnWorker = (file: string, execArgv: string[]) => WorkerProcess

export const forkWorker: SpawnWorker = (file, execArgv) => {
  const child = fork(file, [], {
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  })
  let exited = false
  child.once('exit', () => (exited = true))
  child.stdout?.resume()
  // A send racing the process's exit fails with EPIPE; the exit listener reports what matters.
  child.on('error', () => undefined)
  return {
    get pid() {
      return child.pid
    },
    get exited() {
      return exited || child.exitCode !== null || child.signalCode !== null
    },
    send: (m) => {
      if (child.connected) child.send(m as object, () => undefined)
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
    onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    kill: () => child.kill('SIGKILL'),
  }
}
