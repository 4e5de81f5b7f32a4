import { utilityProcess } from 'electron'
import type { SpawnWorker } from '../core/jobs/worker-process'

/** Training processes in the desktop app: Electron's utilityProcess, as Electron recommends. */
export const utilityWorker: SpawnWorker = (file, execArgv) => {
  const child = utilityProcess.fork(file, [], {
    execArgv,
    stdio: 'pipe',
    serviceName: 'Synthfold training',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  })
  let exited = false
  child.once('exit', () => (exited = true))
  child.stdout?.resume()
  return {
    get pid() {
      return child.pid
    },
    get exited() {
      return exited
    },
    send: (m) => {
      if (!exited) child.postMessage(m)
    },
    onMessage: (l) => child.on('message', l),
    // utilityProcess reports an exit code only; a kill shows as a non-zero code.
    onExit: (l) => child.once('exit', (code) => l(code, null)),
    onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    kill: () => child.kill(),
  }
}
