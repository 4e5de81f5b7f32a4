import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type { ApiError } from '../../shared/result'
import type { ImportSummary, JobEvent, JobPhase, JobProgress } from '../../shared/types'
import type { ImportRequest } from '../../shared/types'
import type { FromImportWorker, ImportWorkerData } from './import-protocol'
import { RateMeter } from '../util/rate-meter'
import { workerFile } from '../util/worker-file'

interface Running {
  progress: JobProgress
  worker: Worker
  meter: RateMeter
  root: string
  lastEmit: number
  cancelRequested: boolean
  settled: boolean
}

const EMIT_INTERVAL_MS = 100

/** Runs long jobs off the main event loop and turns their messages into job events. */
export class JobManager {
  private readonly running = new Map<string, Running>()
  private readonly listeners = new Set<(e: JobEvent) => void>()

  constructor(private readonly ctx: { dbPath: string; home: string }) {}

  on(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  list(): JobProgress[] {
    return [...this.running.values()].map((r) => ({ ...r.progress }))
  }

  importing(root: string): boolean {
    return [...this.running.values()].some((r) => r.root === root)
  }

  startImport(request: ImportRequest & { path: string }, label: string): string {
    const jobId = randomUUID()
    const spec = workerFile('import-worker', import.meta.url)
    const data: ImportWorkerData = { dbPath: this.ctx.dbPath, home: this.ctx.home, request }
    const worker = new Worker(spec.file, { workerData: data, execArgv: spec.execArgv })
    const run: Running = {
      progress: {
        jobId,
        kind: 'import',
        datasetId: null,
        label,
        phase: 'starting',
        done: 0,
        total: 0,
        rate: 0,
        etaSeconds: null,
        startedAt: Date.now(),
      },
      worker,
      meter: new RateMeter(),
      root: request.path,
      lastEmit: 0,
      cancelRequested: false,
      settled: false,
    }
    this.running.set(jobId, run)
    worker.on('message', (m: FromImportWorker) => this.onMessage(run, m))
    worker.on('error', (err) =>
      this.settle(run, {
        type: 'failed',
        jobId,
        kind: 'import',
        error: { code: 'internal', message: `The import stopped unexpectedly: ${err.message}` },
      }),
    )
    worker.on('exit', (code) => {
      if (!run.settled) {
        this.settle(run, {
          type: 'failed',
          jobId,
          kind: 'import',
          error: {
            code: 'internal',
            message: `The import worker exited (code ${code}) before finishing.`,
          },
        })
      }
    })
    this.emit({ type: 'progress', progress: { ...run.progress } })
    return jobId
  }

  cancel(jobId: string): boolean {
    const run = this.running.get(jobId)
    if (!run) return false
    run.cancelRequested = true
    run.worker.postMessage({ type: 'cancel' })
    return true
  }

  /** Waits for every running job to stop (after cancelling them when asked). */
  async shutdown(cancel = true): Promise<void> {
    const all = [...this.running.values()]
    if (cancel) for (const r of all) this.cancel(r.progress.jobId)
    await Promise.all(
      all.map(
        (r) => new Promise<void>((res) => (r.settled ? res() : r.worker.once('exit', () => res()))),
      ),
    )
  }

  private onMessage(run: Running, m: FromImportWorker): void {
    const { jobId } = run.progress
    if (m.type === 'dataset') {
      run.progress.datasetId = m.datasetId
    } else if (m.type === 'progress') {
      this.updateProgress(run, m.phase, m.done, m.total)
    } else if (m.type === 'done') {
      const summary: ImportSummary = m.summary
      this.settle(
        run,
        summary.cancelled
          ? { type: 'cancelled', jobId, kind: 'import', result: summary }
          : { type: 'done', jobId, kind: 'import', result: summary },
      )
    } else if (m.type === 'error') {
      const error: ApiError = m.error
      this.settle(run, { type: 'failed', jobId, kind: 'import', error })
    }
  }

  private updateProgress(run: Running, phase: JobPhase, done: number, total: number): void {
    const p = run.progress
    if (phase !== p.phase) run.meter.reset()
    const phaseChanged = phase !== p.phase
    p.phase = phase
    p.done = done
    p.total = total
    run.meter.update(done)
    p.rate = run.meter.rate()
    p.etaSeconds = phase === 'decoding' ? run.meter.eta(done, total) : null
    const now = Date.now()
    if (phaseChanged || now - run.lastEmit >= EMIT_INTERVAL_MS || done === total) {
      run.lastEmit = now
      this.emit({ type: 'progress', progress: { ...p } })
    }
  }

  private settle(run: Running, event: JobEvent): void {
    if (run.settled) return
    run.settled = true
    this.running.delete(run.progress.jobId)
    this.emit(event)
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(e)
      } catch {
        // A failing subscriber must not stop the job or the other subscribers.
      }
    }
  }
}
