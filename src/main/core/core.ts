import { existsSync, readFileSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  describeIssues,
  methods,
  type EventName,
  type EventPayloads,
  type MethodName,
  type MethodResults,
  type ParsedArgs,
} from '../../shared/contract'
import { AppError, toApiError, type Result } from '../../shared/result'
import type { AppInfo } from '../../shared/types'
import { openDatabase, type Database } from './db/database'
import { DatasetsRepo } from './db/datasets-repo'
import { resolveImportRoot } from './datasets/import'
import { JobManager } from './jobs/jobs'
import { readMedia, type Media, type MediaKind } from './media'
import { datasetDir, dbFile, projectRoot, resolveHome, sampleDatasetPath } from './paths'
import { pidAlive } from './util/process'
import { RunsRepo } from './db/runs-repo'
import { RunManager } from './jobs/runs'
import type { SpawnWorker } from './jobs/worker-process'
import { runHandlers } from './run-handlers'
import { genHandlers } from './gen-handlers'
import { exportHandlers } from './export-handlers'
import { GenerationsRepo } from './db/generations-repo'
import { GenerationManager } from './jobs/generations'
import { ExportsRepo } from './db/exports-repo'
import { ExportManager } from './jobs/exports'

export interface CoreOptions {
  home?: string
  shell: AppInfo['shell']
  /** Native folder picker, where the shell has one (Electron). */
  pickFolder?: () => Promise<string | null>
  /** How training processes start (Electron passes utilityProcess; default child_process.fork). */
  spawnWorker?: SpawnWorker
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
  readonly gens: GenerationManager
  readonly exportsRepo: ExportsRepo
  readonly exports: ExportManager
  private readonly listeners: { [E in EventName]: Set<(p: EventPayloads[E]) => void> } = {
    job: new Set(),
    run: new Set(),
    generation: new Set(),
    export: new Set(),
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
      },
      (e) => this.emit('run', e),
    )
    this.gensRepo = new GenerationsRepo(this.db)
    const stoppedGenerations = this.gensRepo.recoverInterrupted(pidAlive)
    this.gens = new GenerationManager(
      {
        gens: this.gensRepo,
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
    this.handlers = this.createHandlers()
  }

  /** Validates the arguments against the contract, then runs the method. Never throws. */
  async call<M extends MethodName>(method: M, rawArgs: unknown): Promise<Result<MethodResults[M]>> {
    if (!Object.hasOwn(methods, method))
      return {
        ok: false,
        error: { code: 'not_found', message: `Unknown method: ${String(method)}` },
      }
    const parsed = methods[method].safeParse(rawArgs ?? {})
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

  media(kind: MediaKind, imageId: number): Promise<Media | null> {
    return readMedia(this.home, this.repo, kind, imageId)
  }

  /** The run page's pictures (samples per class, reconstructions), written by the run each epoch. */
  async runPreview(runId: number, kind: 'samples' | 'recon'): Promise<Media | null> {
    const file = join(this.runs.runDir(runId), `preview-${kind}.png`)
    const body = await readFile(file).catch(() => null)
    return body ? { mime: 'image/png', body } : null
  }

  /**
   * The renderer's pictures by path, the same for both shells: `image/thumb/7`, `image/pixels/7`,
   * `run/3/samples`, `run/3/recon`, `sample/42`, `export/5/report`.
   */
  async mediaByPath(path: string): Promise<Media | null> {
    const m = /^image\/(thumb|pixels)\/(\d+)$/.exec(path)
    if (m) return this.media(m[1] as MediaKind, Number(m[2]))
    const r = /^run\/(\d+)\/(samples|recon)$/.exec(path)
    if (r) return this.runPreview(Number(r[1]), r[2] as 'samples' | 'recon')
    const s = /^sample\/(\d+)$/.exec(path)
    if (s) return this.sampleMedia(Number(s[1]))
    const e = /^export\/(\d+)\/report$/.exec(path)
    if (e) return this.exportReport(Number(e[1]))
    return null
  }

  /** A finished export's report.html, for the app to show (inline styles and images only). */
  async exportReport(exportId: number): Promise<Media | null> {
    const e = this.exportsRepo.get(exportId)
    if (!e || e.status !== 'completed') return null
    const body = await readFile(join(e.options.out, 'report.html')).catch(() => null)
    return body
      ? {
          mime: 'text/html; charset=utf-8',
          body,
          csp: "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
        }
      : null
  }

  /** A generated sample's PNG. */
  async sampleMedia(sampleId: number): Promise<Media | null> {
    const s = this.gensRepo.sampleFile(sampleId)
    if (!s) return null
    const body = await readFile(join(this.gens.folder(s.generationId), 'samples', s.file)).catch(
      () => null,
    )
    return body ? { mime: 'image/png', body } : null
  }

  async close(): Promise<void> {
    await Promise.all([
      this.jobs.shutdown(true),
      this.runs.shutdown(),
      this.gens.shutdown(),
      this.exports.shutdown(),
    ])
    this.db.close()
  }

  private mustGet(id: number) {
    const ds = this.repo.get(id)
    if (!ds) throw new AppError('not_found', `No dataset with id ${id}.`)
    return ds
  }

  private async startImport(args: ParsedArgs<'datasets.import'>): Promise<{ jobId: string }> {
    const root = await resolveImportRoot(args.path)
    if (root === this.home || root.startsWith(join(this.home, '/'))) {
      throw new AppError(
        'invalid_argument',
        'That folder is Synthfold’s own data folder; choose a folder of images instead.',
      )
    }
    if (this.jobs.importing(root))
      throw new AppError('conflict', 'This folder is already being imported.')
    const existing = this.repo.rowByRoot(root)
    const label = args.name ?? existing?.name ?? root.split(/[\\/]/).filter(Boolean).pop() ?? root
    return { jobId: this.jobs.startImport({ ...args, path: root }, label) }
  }

  /** A run's or dataset's generations go with it (rows and sample files). */
  private deleteGenerations(where: { runId?: number; datasetId?: number }): void {
    const list = this.gens.list(where)
    if (list.some((g) => this.gens.isLive(g.id)))
      throw new AppError('conflict', 'Cancel the running generation first.')
    for (const g of list) this.gens.delete(g.id)
  }

  private createHandlers(): Handlers {
    const runs = runHandlers(this.runs, this.runsRepo, this.repo)
    return {
      ...runs,
      'runs.delete': (a) => {
        this.deleteGenerations({ runId: a.runId })
        return runs['runs.delete'](a)
      },
      ...genHandlers(this.gens, this.gensRepo, (e) => this.emit('generation', e)),
      ...exportHandlers(this.exports, this.runs, this.runsRepo),
      'app.info': () => ({
        version: appVersion(),
        home: this.home,
        shell: this.opts.shell,
        canPickFolder: Boolean(this.opts.pickFolder),
        sample: { path: sampleDatasetPath(), available: existsSync(sampleDatasetPath()) },
      }),
      'datasets.list': () => this.repo.list(),
      'datasets.get': ({ id }) => this.mustGet(id),
      'datasets.images': ({ datasetId, classId, offset, limit }) => {
        this.mustGet(datasetId)
        return this.repo.images(datasetId, classId, offset, limit)
      },
      'datasets.skipped': ({ datasetId, offset, limit }) => {
        this.mustGet(datasetId)
        return this.repo.skipped(datasetId, offset, limit)
      },
      'datasets.rename': ({ id, name }) => {
        this.mustGet(id)
        this.repo.rename(id, name)
        return this.mustGet(id)
      },
      'datasets.delete': ({ id }) => {
        const ds = this.mustGet(id)
        if (ds.status === 'importing' || this.jobs.importing(ds.root))
          throw new AppError('conflict', 'Cancel the running import before deleting this dataset.')
        const runs = this.runsRepo.list(id)
        if (runs.some((r) => this.runs.isLive(r.id)))
          throw new AppError(
            'conflict',
            'Cancel the training run of this dataset before deleting it.',
          )
        this.deleteGenerations({ datasetId: id })
        for (const r of runs) this.runs.delete(r.id)
        this.repo.delete(id)
        rmSync(datasetDir(this.home, id), { recursive: true, force: true })
        return { deleted: true as const }
      },
      'datasets.import': (args) => this.startImport(args),
      'datasets.importSample': async () => {
        const path = sampleDatasetPath()
        if (!existsSync(path))
          throw new AppError(
            'not_found',
            `The sample dataset is missing from this installation (${path}).`,
          )
        const known = this.repo.rowByRoot(await resolveImportRoot(path))
        return this.startImport({ path, name: known ? undefined : 'Fashion-MNIST sample' })
      },
      'jobs.list': () => this.jobs.list(),
      'jobs.cancel': ({ jobId }) => ({ cancelled: this.jobs.cancel(jobId) }),
      'dialog.pickFolder': async () => {
        if (!this.opts.pickFolder)
          throw new AppError(
            'unsupported',
            'A folder dialog is only available in the desktop app; paste the folder path instead.',
          )
        return { path: await this.opts.pickFolder() }
      },
    }
  }
}

let version: string | undefined
function appVersion(): string {
  version ??= (
    JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version
  return version
}
