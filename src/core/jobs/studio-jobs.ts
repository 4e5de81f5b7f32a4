import { join } from 'node:path'
import { AppError } from '../../shared/result'
import type {
  FromTrainer,
  StudioEndpoint,
  StudioReplies,
  StudioRequest,
} from '../../shared/ml-protocol'
import {
  latentToolsRefusal,
  type MapFeatures,
  type MapMethod,
  type StudioEvent,
  type StudioMap,
  type StudioTool,
} from '../../shared/studio'
import type { RunSummary } from '../../shared/runs'
import type { RunsRepo } from '../db/runs-repo'
import type { GenerationsRepo } from '../db/generations-repo'
import type { StudioRepo, MapKey } from '../db/studio-repo'
import { readCheckpointMeta } from '../training/checkpoint'
import { modelFamily } from '../studio/session'
import { startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { SpawnWorker } from './worker-process'

/** A session with no request for this long is closed; the next request opens a new one. */
const IDLE_MS = 120_000

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  progress?: (phase: 'encoding' | 'projecting' | 'placing', done: number, total: number) => void
}

interface Session {
  proc: TrainerProcess
  ready: Promise<void>
  pending: Map<number, Pending>
  idle: NodeJS.Timeout | null
  exited: boolean
}

interface MapJob {
  jobId: string
  runId: number
  key: string
  requestId: number | null
  session: Session | null
  cancelled: boolean
  result: Promise<StudioMap>
}

/**
 * The latent studio's supervisor: one long-lived ML process per run and checkpoint kind (closed
 * when idle), requests to it answered in order, and map jobs (progress, cancel) whose results are
 * cached in SQLite (studio_maps) so a map is computed once per checkpoint and image set.
 */
export class StudioManager {
  private readonly sessions = new Map<string, Session>()
  private readonly jobs = new Map<string, MapJob>()
  private nextRequest = 1
  private nextJob = 1

  constructor(
    private readonly ctx: {
      runs: RunsRepo
      gens: GenerationsRepo
      studio: StudioRepo
      home: string
      dbPath: string
      generationFolder: (id: number) => string
      spawn?: SpawnWorker
    },
    private readonly emit: (e: StudioEvent) => void,
  ) {}

  run(runId: number): RunSummary {
    const run = this.ctx.runs.get(runId)
    if (!run) throw new AppError('not_found', `No run with id ${runId}.`)
    return run
  }

  /** The checkpoint the studio reads (the wanted kind, else the other), refusing a tool its family has no use for. */
  checkpoint(runId: number, kind: 'best' | 'last', tool: StudioTool = 'map') {
    const found = this.ctx.runs.checkpoint(runId, kind)
    const ck = found
      ? { ...found, kind }
      : (() => {
          const other = kind === 'best' ? 'last' : 'best'
          const o = this.ctx.runs.checkpoint(runId, other)
          return o ? { ...o, kind: other as 'best' | 'last' } : undefined
        })()
    if (!ck) throw new AppError('conflict', `Run ${runId} has no checkpoint yet.`)
    let family: string
    try {
      family = modelFamily(readCheckpointMeta(ck.path).settings)
    } catch {
      throw new AppError('not_found', `The checkpoint of run ${runId} is missing from disk.`)
    }
    const refusal = latentToolsRefusal(family, tool)
    if (refusal) throw new AppError('unsupported', refusal)
    return ck
  }

  /** Sends one request to the run's session and waits for its answer. */
  async request<K extends StudioRequest['kind']>(
    runId: number,
    kind: 'best' | 'last',
    req: Extract<StudioRequest, { kind: K }>,
    progress?: Pending['progress'],
    onSent?: (id: number, s: Session) => void,
  ): Promise<StudioReplies[K]> {
    const tool: StudioTool =
      req.kind === 'codes' || req.kind === 'resample'
        ? 'resample'
        : req.kind === 'map' || req.kind === 'interpolate'
          ? req.kind
          : 'sliders'
    const ck = this.checkpoint(runId, kind, tool)
    const s = this.session(runId, ck)
    await s.ready
    if (s.idle) clearTimeout(s.idle)
    s.idle = null
    const id = this.nextRequest++
    const answer = new Promise<unknown>((resolve, reject) =>
      s.pending.set(id, { resolve, reject, progress }),
    )
    s.proc.proc.send({ type: 'studio', id, request: req })
    onSent?.(id, s)
    try {
      return (await answer) as StudioReplies[K]
    } finally {
      if (!s.pending.size && !s.exited) {
        s.idle = setTimeout(() => this.close(s), IDLE_MS)
        s.idle.unref()
      }
    }
  }

  /**
   * The map for a key: the cached one, or a job that computes it (progress and the result come as
   * `studio` events; `wait` resolves with the map instead).
   */
  async map(a: {
    runId: number
    method: MapMethod
    features: MapFeatures
    checkpoint: 'best' | 'last'
    generationId: number | null
    wait: boolean
  }): Promise<{ status: 'ready'; map: StudioMap } | { status: 'computing'; jobId: string }> {
    const run = this.run(a.runId)
    const ck = this.checkpoint(a.runId, a.checkpoint)
    const key: MapKey = { ...a, checkpoint: ck.kind }
    let synthetic: Extract<StudioRequest, { kind: 'map' }>['synthetic'] = null
    if (a.generationId !== null) {
      const g = this.ctx.gens.get(a.generationId, this.ctx.generationFolder)
      if (!g || g.runId !== a.runId)
        throw new AppError('not_found', `Run ${a.runId} has no generation ${a.generationId}.`)
      const index = new Map(run.classNames.map((n, i) => [n, i]))
      const samples = this.ctx.studio
        .acceptedSamples(a.generationId)
        .map((s) => ({ ...s, classIndex: index.get(g.classNames[s.classIndex]) ?? -1 }))
        .filter((s) => s.classIndex >= 0)
      synthetic = { dir: join(this.ctx.generationFolder(a.generationId), 'samples'), samples }
    }
    // and the generation's accepted samples, which a review changes
    const imagesKey =
      this.ctx.studio.imagesKey(run.datasetId) +
      (synthetic
        ? `:g${synthetic.samples.length}:${synthetic.samples.reduce((m, x) => Math.max(m, x.id), 0)}`
        : '')
    const cached = this.ctx.studio.get(key, ck.epoch, imagesKey)
    if (cached) return { status: 'ready', map: cached }
    const keyText = JSON.stringify([key, ck.epoch, imagesKey])
    let job = [...this.jobs.values()].find((j) => j.key === keyText)
    if (!job) {
      const jobId = `map-${this.nextJob++}`
      const started = Date.now()
      const j: MapJob = {
        jobId,
        runId: a.runId,
        key: keyText,
        requestId: null,
        session: null,
        cancelled: false,
        result: Promise.resolve(null as unknown as StudioMap),
      }
      this.jobs.set(jobId, j)
      this.emit({ type: 'progress', jobId, runId: a.runId, phase: 'starting', done: 0, total: 1 })
      j.result = this.request(
        a.runId,
        ck.kind,
        { kind: 'map', method: a.method, features: a.features, seed: 42, synthetic },
        (phase, done, total) =>
          this.emit({ type: 'progress', jobId, runId: a.runId, phase, done, total }),
        (id, s) => {
          j.requestId = id
          j.session = s
          if (j.cancelled) s.proc.proc.send({ type: 'studio-cancel', id })
        },
      ).then((r) => {
        const map: StudioMap = {
          runId: a.runId,
          method: a.method,
          features: a.features,
          checkpoint: { kind: ck.kind, epoch: ck.epoch },
          classNames: run.classNames,
          real: r.real,
          synthetic:
            r.synthetic && a.generationId !== null
              ? { ...r.synthetic, generationId: a.generationId }
              : null,
          computedAt: Date.now(),
          seconds: (Date.now() - started) / 1000,
        }
        this.ctx.studio.put(key, map, imagesKey)
        return map
      })
      j.result.then(
        () => this.emit({ type: 'done', jobId, runId: a.runId }),
        (err: Error) =>
          this.emit(
            j.cancelled
              ? { type: 'cancelled', jobId, runId: a.runId }
              : {
                  type: 'failed',
                  jobId,
                  runId: a.runId,
                  error: {
                    code: err instanceof AppError ? err.code : 'internal',
                    message: err.message,
                  },
                },
          ),
      )
      void j.result.catch(() => undefined).finally(() => this.jobs.delete(jobId))
      job = j
    }
    if (!a.wait) return { status: 'computing', jobId: job.jobId }
    try {
      return { status: 'ready', map: await job.result }
    } catch (err) {
      if (job.cancelled) throw new AppError('cancelled', 'The map was cancelled.')
      throw err
    }
  }

  cancel(jobId: string): boolean {
    const j = this.jobs.get(jobId)
    if (!j) return false
    j.cancelled = true
    if (j.session && j.requestId !== null)
      j.session.proc.proc.send({ type: 'studio-cancel', id: j.requestId })
    return true
  }

  /** Resolves an endpoint given as an image path relative to the dataset root, a class, or an id. */
  endpoint(
    run: RunSummary,
    e: { imageId: number } | { path: string } | { class: string | number },
  ): StudioEndpoint {
    if ('imageId' in e) return { imageId: e.imageId }
    if ('path' in e) {
      const id = this.ctx.studio.imageByPath(run.datasetId, e.path)
      if (id === null)
        throw new AppError(
          'not_found',
          `No image ${JSON.stringify(e.path)} in dataset ${run.datasetId} (paths are relative to the dataset's folder).`,
        )
      return { imageId: id }
    }
    const c = typeof e.class === 'number' ? e.class : run.classNames.indexOf(e.class)
    if (c < 0 || c >= run.classNames.length)
      throw new AppError(
        'invalid_argument',
        `No class ${JSON.stringify(e.class)} in run ${run.id}; its classes are: ${run.classNames.join(', ')}.`,
      )
    return { classIndex: c }
  }

  async shutdown(): Promise<void> {
    for (const id of this.jobs.keys()) this.cancel(id)
    await Promise.all([...this.sessions.values()].map((s) => this.close(s)))
  }

  private close(s: Session): Promise<void> {
    if (s.idle) clearTimeout(s.idle)
    s.idle = null
    for (const [k, v] of this.sessions) if (v === s) this.sessions.delete(k)
    if (s.exited) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        if (!s.exited) s.proc.proc.kill()
        resolve()
      }, 5000)
      t.unref()
      s.proc.proc.onExit(() => {
        clearTimeout(t)
        resolve()
      })
      s.proc.proc.send({ type: 'studio-close' })
    })
  }

  private session(runId: number, ck: { kind: 'best' | 'last'; epoch: number; path: string }) {
    // the dataset as it is now (relabels, exclusions): a session holds the images it read at start
    const key = `${runId}:${ck.kind}:${ck.epoch}:${ck.path}:${this.ctx.studio.imagesKey(this.run(runId).datasetId)}`
    const found = this.sessions.get(key)
    if (found && !found.exited) return found
    // a session on an older checkpoint of the run gives way to the new one
    for (const [k, s] of this.sessions) if (k.startsWith(`${runId}:${ck.kind}:`)) void this.close(s)
    const run = this.run(runId)
    let ready!: { resolve: () => void; reject: (e: Error) => void }
    const s: Session = {
      proc: null as unknown as TrainerProcess,
      ready: new Promise<void>((resolve, reject) => (ready = { resolve, reject })),
      pending: new Map(),
      idle: null,
      exited: false,
    }
    s.ready.catch(() => undefined)
    const fail = (err: Error): void => {
      ready.reject(err)
      for (const p of s.pending.values()) p.reject(err)
      s.pending.clear()
    }
    s.proc = startTrainerProcess(
      {
        mode: 'studio',
        checkpointDir: ck.path,
        dbPath: this.ctx.dbPath,
        home: this.ctx.home,
        datasetId: run.datasetId,
        backend: 'auto',
      },
      (m: FromTrainer) => {
        if (m.type === 'studio-ready') ready.resolve()
        else if (m.type === 'studio-progress')
          s.pending.get(m.id)?.progress?.(m.phase, m.done, m.total)
        else if (m.type === 'studio-reply') {
          s.pending.get(m.id)?.resolve(m.value)
          s.pending.delete(m.id)
        } else if (m.type === 'studio-error') {
          const p = s.pending.get(m.id)
          s.pending.delete(m.id)
          p?.reject(
            m.error.cancelled
              ? new AppError('cancelled', 'Cancelled.')
              : new AppError('invalid_argument', m.error.message),
          )
        } else if (m.type === 'error') fail(new AppError('internal', m.error.message))
      },
      (code, signal) => {
        s.exited = true
        for (const [k, v] of this.sessions) if (v === s) this.sessions.delete(k)
        fail(
          new AppError(
            'internal',
            `The studio process stopped (${signal ?? `exit code ${code}`}). ${s.proc.stderrTail()}`,
          ),
        )
      },
      this.ctx.spawn,
    )
    this.sessions.set(key, s)
    return s
  }
}
