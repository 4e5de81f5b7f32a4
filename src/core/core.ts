import {
  argumentErrors,
  describeIssues,
  methods,
  type EventName,
  type EventPayloads,
  type MethodName,
  type MethodResults,
  type ParsedArgs,
} from '../shared/contract'
import { AppError, toApiError, type Result } from '../shared/result'
import type { AppInfo } from '../shared/types'
import { openDatabase, type Database } from './db/database'
import { DatasetsRepo } from './db/datasets-repo'
import { JobManager } from './jobs/import-jobs'
import { mediaByPath, type Media } from './media'
import { dbFile, resolveHome } from './util/paths'
import { pidAlive } from './util/process'
import { RunsRepo } from './db/runs-repo'
import { RunManager } from './jobs/run-jobs'
import type { SpawnWorker } from './jobs/worker-process'
import type { OpenGpuPage } from '../shared/gpu'
import { runHandlers } from './handlers/runs'
import { deleteGenerations, genHandlers } from './handlers/generations'
import { datasetHandlers } from './handlers/datasets'
import { appHandlers } from './handlers/app'
import { exportHandlers } from './handlers/exports'
import { GenerationsRepo } from './db/generations-repo'
import { SamplesRepo } from './db/samples-repo'
import { GenerationManager } from './jobs/generation-jobs'
import { ExportsRepo } from './db/exports-repo'
import { ExportManager } from './jobs/export-jobs'
import { EvaluationsRepo } from './db/evaluations-repo'
import { EvaluationManager } from './jobs/evaluation-jobs'
import { evaluationHandlers } from './handlers/evaluations'
import { StudioRepo } from './db/studio-repo'
import { StudioManager } from './jobs/studio-jobs'
import { studioHandlers } from './handlers/studio'
import { AuditsRepo } from './db/audits-repo'
import { OverridesRepo } from './db/overrides-repo'
import { AuditManager } from './jobs/audit-jobs'
import { auditHandlers } from './handlers/audits'

export interface CoreOptions {
  home?: string
  shell: AppInfo['shell']
  /** Native folder picker, where the shell has one (Electron). */
  pickFolder?: () => Promise<string | null>
  /** How training processes start (Electron passes utilityProcess; default child_process.fork). */
  spawnWorker?: SpawnWorker
  /** The desktop app's GPU window, where runs may train on WebGPU or WebGL (gpu-host.ts). */
  openGpuPage?: OpenGpuPage
}

type Handlers = {
  [M in MethodName]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** The whole app behind the contract, with no Electron import: the shells only transport calls. */
export class Core {
  readonly home: string
  readonly db: Database
  readonly repo: DatasetsRepo
  readonly jobs: JobManager
  readonly runsRepo: RunsRepo
  readonly runs: RunManager
  readonly gensRepo: GenerationsRepo
  readonly samplesRepo: SamplesRepo
  readonly gens: GenerationManager
  readonly exportsRepo: ExportsRepo
  readonly exports: ExportManager
  readonly evaluationsRepo: EvaluationsRepo
  readonly evaluations: EvaluationManager
  readonly studio: StudioManager
  readonly auditsRepo: AuditsRepo
  readonly overridesRepo: OverridesRepo
  readonly audits: AuditManager
  private readonly listeners: { [E in EventName]: Set<(p: EventPayloads[E]) => void> } = {
    job: new Set(),
    run: new Set(),
    generation: new Set(),
    export: new Set(),
    evaluation: new Set(),
    studio: new Set(),
    audit: new Set(),
    'app.drop': new Set(),
  }
  private readonly handlers: Handlers

  constructor(private readonly opts: CoreOptions) {
    this.home = opts.home ?? resolveHome()
    this.db = openDatabase(dbFile(this.home))
    this.repo = new DatasetsRepo(this.db)
    this.repo.recoverInterrupted((pid) => pid !== process.pid && pidAlive(pid))
    this.jobs = new JobManager({ dbPath: dbFile(this.home), home: this.home })
    this.jobs.on((e) => this.emit('job', e))
    this.runsRepo = new RunsRepo(this.db)
    this.runsRepo.recoverInterrupted(pidAlive)
    this.runs = new RunManager(
      {
        db: this.db,
        runs: this.runsRepo,
        datasets: this.repo,
        home: this.home,
        dbPath: dbFile(this.home),
        spawn: opts.spawnWorker,
        openGpuPage: opts.openGpuPage,
      },
      (e) => this.emit('run', e),
    )
    this.samplesRepo = new SamplesRepo(this.db)
    this.gensRepo = new GenerationsRepo(this.db, this.samplesRepo)
    const stoppedGenerations = this.gensRepo.recoverInterrupted(pidAlive)
    this.gens = new GenerationManager(
      {
        gens: this.gensRepo,
        samples: this.samplesRepo,
        runs: this.runsRepo,
        datasets: this.repo,
        home: this.home,
        dbPath: dbFile(this.home),
        spawn: opts.spawnWorker,
      },
      (e) => this.emit('generation', e),
    )
    for (const id of stoppedGenerations) this.gens.reconcile(id)
    this.exportsRepo = new ExportsRepo(this.db)
    this.exportsRepo.recoverInterrupted((pid) => pid !== process.pid && pidAlive(pid))
    this.exports = new ExportManager(
      {
        db: this.db,
        exports: this.exportsRepo,
        datasets: this.repo,
        home: this.home,
        generationFolder: this.gens.folder,
      },
      (e) => this.emit('export', e),
    )
    this.evaluationsRepo = new EvaluationsRepo(this.db)
    this.evaluationsRepo.recoverInterrupted((pid) => pid !== process.pid && pidAlive(pid))
    this.evaluations = new EvaluationManager(
      {
        evaluations: this.evaluationsRepo,
        gens: this.gensRepo,
        samples: this.samplesRepo,
        runs: this.runsRepo,
        datasets: this.repo,
        generationFolder: this.gens.folder,
        home: this.home,
        dbPath: dbFile(this.home),
        spawn: opts.spawnWorker,
      },
      (e) => this.emit('evaluation', e),
    )
    this.studio = new StudioManager(
      {
        runs: this.runsRepo,
        gens: this.gensRepo,
        studio: new StudioRepo(this.db),
        home: this.home,
        dbPath: dbFile(this.home),
        generationFolder: this.gens.folder,
        spawn: opts.spawnWorker,
      },
      (e) => this.emit('studio', e),
    )
    this.overridesRepo = new OverridesRepo(this.db)
    this.auditsRepo = new AuditsRepo(this.db)
    this.auditsRepo.recoverInterrupted((pid) => pid !== process.pid && pidAlive(pid))
    this.audits = new AuditManager(
      {
        audits: this.auditsRepo,
        runs: this.runsRepo,
        datasets: this.repo,
        isTraining: (id) => this.runs.isLive(id),
        home: this.home,
        dbPath: dbFile(this.home),
        spawn: opts.spawnWorker,
      },
      (e) => this.emit('audit', e),
    )
    this.handlers = this.createHandlers()
  }

  /** Validates the arguments against the contract, then runs the method. Never throws. */
  async call<M extends MethodName>(method: M, rawArgs: unknown): Promise<Result<MethodResults[M]>> {
    if (!Object.hasOwn(methods, method))
      return {
        ok: false,
        error: { code: 'not_found', message: `Unknown method: ${String(method)}` },
      }
    const parsed = methods[method].safeParse(rawArgs ?? {}, { error: argumentErrors })
    if (!parsed.success)
      return {
        ok: false,
        error: { code: 'invalid_argument', message: describeIssues(method, parsed.error) },
      }
    try {
      const handler = this.handlers[method] as (
        a: unknown,
      ) => Promise<MethodResults[M]> | MethodResults[M]
      return { ok: true, value: await handler(parsed.data) }
    } catch (err) {
      return { ok: false, error: toApiError(err) }
    }
  }

  on<E extends EventName>(event: E, listener: (p: EventPayloads[E]) => void): () => void {
    const set = this.listeners[event] as Set<(p: EventPayloads[E]) => void>
    set.add(listener)
    return () => set.delete(listener)
  }

  emit<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    for (const l of this.listeners[event] as Set<(p: EventPayloads[E]) => void>) l(payload)
  }

  /**
   * The renderer's pictures by path, the same for both shells (media.ts lists the routes):
   * `image/thumb/7`, `run/3/samples`, `sample/42`, `export/5/report`.
   */
  mediaByPath(path: string): Promise<Media | null> {
    return mediaByPath(
      {
        home: this.home,
        datasets: this.repo,
        exports: this.exportsRepo,
        samples: this.samplesRepo,
        runDir: (id) => this.runs.runDir(id),
        generationDir: (id) => this.gens.folder(id),
      },
      path,
    )
  }

  async close(): Promise<void> {
    await Promise.all([
      this.jobs.shutdown(true),
      this.runs.shutdown(),
      this.gens.shutdown(),
      this.exports.shutdown(),
      this.evaluations.shutdown(),
      this.studio.shutdown(),
      this.audits.shutdown(),
    ])
    this.db.close()
  }

  private createHandlers(): Handlers {
    const runs = runHandlers(this.runs, this.runsRepo, this.repo)
    const gens = genHandlers(this.gens, this.gensRepo, this.samplesRepo, (e) =>
      this.emit('generation', e),
    )
    return {
      ...runs,
      'runs.resume': (a) => {
        // an audit reads the run's checkpoint, which a resumed run rewrites
        if (this.audits.isAuditing(a.runId))
          throw new AppError(
            'conflict',
            'Wait for the audit of this run to end before resuming it.',
          )
        return runs['runs.resume'](a)
      },
      'runs.delete': (a) => {
        if (this.audits.isAuditing(a.runId))
          throw new AppError('conflict', 'Cancel the audit of this run before deleting it.')
        deleteGenerations(this.gens, { runId: a.runId })
        return runs['runs.delete'](a)
      },
      ...gens,
      'generations.delete': (a) => {
        if (this.evaluations.isEvaluating(a.generationId))
          throw new AppError(
            'conflict',
            'Cancel the evaluation of this generation before deleting it.',
          )
        return gens['generations.delete'](a)
      },
      ...exportHandlers(this.exports, this.runs, this.runsRepo),
      ...evaluationHandlers(this.evaluations),
      ...studioHandlers(this.studio),
      ...auditHandlers({
        audits: this.audits,
        auditsRepo: this.auditsRepo,
        overrides: this.overridesRepo,
        datasets: this.repo,
      }),
      ...datasetHandlers({
        home: this.home,
        repo: this.repo,
        imports: this.jobs,
        runsRepo: this.runsRepo,
        runs: this.runs,
        gens: this.gens,
      }),
      ...appHandlers({ home: this.home, shell: this.opts.shell, pickFolder: this.opts.pickFolder }),
    }
  }
}
