import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Database } from 'better-sqlite3'
import { AppError, type ErrorCode } from '../../shared/result'
import type { ExportEvent, ExportOptions, ExportPreview, ExportSummary } from '../../shared/export'
import type { ExportsRepo } from '../db/exports-repo'
import type { DatasetsRepo } from '../db/datasets-repo'
import { EvaluationsRepo } from '../db/evaluations-repo'
import { suggestedSyntheticWeight, type EvaluationSummary } from '../../shared/evaluation'
import { exportContents, type ExportContents } from '../export/contents'
import { manifestCsv, manifestJsonl, type ManifestRow } from '../export/manifest'
import { classWeights } from '../export/class-weights'
import { evaluationSplit } from '../export/evaluation-split'
import { reportHtml, type ReportRun } from '../export/report'
import { ExportError } from '../export/safe-write'
import type { WrittenFile } from '../export/files'
import { cleanupExport, writeExport } from '../export/writer'
import { zipFolder } from '../export/zip'
import { RateMeter } from '../util/rate-meter'
import { absoluteFolder } from '../util/out-folder'

const CODES: Record<string, ErrorCode> = {
  exists: 'conflict',
  not_empty: 'conflict',
  not_resumable: 'conflict',
  cancelled: 'cancelled',
  source_changed: 'conflict',
}

/** An ExportError as an error a person can act on (the writer's messages already say what was written). */
function appError(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (err instanceof ExportError)
    return new AppError(
      CODES[err.code] ?? 'io',
      err.code === 'source_changed'
        ? `${err.message} Re-import the dataset to pick up the change (or put the file back), then export again.`
        : err.message,
    )
  return new AppError('io', `The export failed: ${(err as Error).message ?? String(err)}`)
}

/**
 * The supervisor of exports. An export runs in main as async file I/O (copies and hashes happen
 * on libuv's thread pool, so the app stays responsive); the writer guarantees that an interrupted
 * one leaves only complete files and can be resumed or cleaned up.
 */
export class ExportManager {
  private readonly live = new Map<number, { stop: boolean; done: Promise<void> }>()
  /** Read only: the evaluation supervisor writes the rows. */
  private readonly evaluations: EvaluationsRepo

  constructor(
    private readonly ctx: {
      db: Database
      exports: ExportsRepo
      datasets: DatasetsRepo
      home: string
      generationFolder: (id: number) => string
    },
    private readonly emit: (e: ExportEvent) => void,
  ) {
    this.evaluations = new EvaluationsRepo(ctx.db)
  }

  preview(
    o: Pick<ExportOptions, 'datasetId' | 'include' | 'generationIds' | 'upscale' | 'realImages'>,
  ): ExportPreview {
    this.dataset(o.datasetId)
    this.generations(o)
    const c = exportContents(this.ctx.db, this.ctx.generationFolder, {
      ...o,
      splits: null,
      seed: 0,
    })
    const available =
      o.generationIds === null
        ? c.generations
        : exportContents(this.ctx.db, this.ctx.generationFolder, {
            ...o,
            include: 'synthetic',
            generationIds: null,
            splits: null,
            seed: 0,
          }).generations
    return {
      classes: c.classes,
      real: c.classes.reduce((a, x) => a + x.real, 0),
      synthetic: c.classes.reduce((a, x) => a + x.synthetic, 0),
      generations: c.generations,
      available,
      mixedSizes: c.mixedSizes,
    }
  }

  get(id: number): ExportSummary {
    const e = this.ctx.exports.get(id)
    if (!e) throw new AppError('not_found', `No export with id ${id}.`)
    return e
  }

  list(datasetId?: number): ExportSummary[] {
    if (datasetId !== undefined) this.dataset(datasetId, { importing: true })
    return this.ctx.exports.list(datasetId)
  }

  start(input: ExportOptions): ExportSummary {
    const o: ExportOptions = { ...input, out: absoluteFolder(input.out) }
    this.dataset(o.datasetId)
    this.generations(o)
    if (o.out === this.ctx.home || o.out.startsWith(join(this.ctx.home, '/')))
      throw new AppError('invalid_argument', 'Choose a folder outside Synthfold’s own data folder.')
    if (o.zip && existsSync(zipPathFor(o.out)))
      throw new AppError(
        'conflict',
        `${zipPathFor(o.out)} already exists; Synthfold never overwrites a file. Choose another destination.`,
      )
    if (!o.merge && nonEmpty(o.out))
      throw new AppError(
        'conflict',
        `${o.out} already holds files. Choose a new or empty folder, or merge into it (nothing there is overwritten).`,
      )
    if (o.metadata === 'jsonl' && o.splits && o.include !== 'real')
      throw new AppError(
        'invalid_argument',
        'JSON Lines metadata with splits cannot be loaded as is by Hugging Face datasets: the val ' +
          'and test splits hold only real images, whose score columns are all null there, and the ' +
          'loader refuses splits whose columns differ in type. Use CSV metadata (the default).',
      )
    const contents = this.contents(o)
    if (!contents.files.length)
      throw new AppError(
        'invalid_argument',
        o.include === 'synthetic'
          ? 'There are no accepted synthetic samples to export yet: generate and review some first.'
          : 'This dataset has no images to export.',
      )
    const id = this.ctx.exports.create(o, contents.classes, process.pid)
    this.run(id, o, contents, o.merge ? 'merge' : 'new')
    return this.get(id)
  }

  resume(id: number): ExportSummary {
    const e = this.get(id)
    if (this.live.has(id)) throw new AppError('conflict', 'This export is still running.')
    if (e.status === 'completed') throw new AppError('conflict', 'This export has finished.')
    this.ctx.exports.markRunning(id, process.pid)
    // exports recorded before these options existed wrote their real images as they were
    const recorded: Partial<ExportOptions> = e.options
    const o: ExportOptions = {
      ...e.options,
      realImages: recorded.realImages ?? 'as-is',
      metadata: recorded.metadata ?? 'csv',
    }
    this.run(id, o, this.contents(o), 'resume')
    return this.get(id)
  }

  async cleanup(id: number): Promise<{ removedFiles: number }> {
    const e = this.get(id)
    if (this.live.has(id))
      throw new AppError('conflict', 'Cancel the export before cleaning it up.')
    if (e.status === 'completed')
      throw new AppError('conflict', 'A finished export is yours now; delete its folder yourself.')
    try {
      const r = await cleanupExport(e.options.out)
      this.ctx.exports.finish(id, 'cancelled', {
        error: `Cleaned up: removed the ${r.removedFiles} file(s) this export had written.`,
      })
      this.emit({ type: 'status', export: this.get(id) })
      return { removedFiles: r.removedFiles }
    } catch (err) {
      throw appError(err)
    }
  }

  cancel(id: number): boolean {
    const l = this.live.get(id)
    if (!l) return false
    l.stop = true
    return true
  }

  async shutdown(): Promise<void> {
    for (const l of this.live.values()) l.stop = true
    await Promise.all([...this.live.values()].map((l) => l.done))
  }

  /** Resolves when the export's current attempt has ended (tests, CLI). */
  async settled(id: number): Promise<ExportSummary> {
    await this.live.get(id)?.done
    return this.get(id)
  }

  private dataset(id: number, allow: { importing?: boolean } = {}) {
    const ds = this.ctx.datasets.get(id)
    if (!ds) throw new AppError('not_found', `No dataset with id ${id}.`)
    if (ds.status === 'importing' && !allow.importing)
      throw new AppError('conflict', 'This dataset is still being imported.')
    return ds
  }

  /** Every generation asked for exists and is of this dataset (an unknown one is not skipped quietly). */
  private generations(o: Pick<ExportOptions, 'datasetId' | 'generationIds'>): void {
    for (const id of o.generationIds ?? []) {
      const g = this.ctx.db.prepare('SELECT dataset_id FROM generations WHERE id = ?').get(id) as
        { dataset_id: number } | undefined
      if (!g) throw new AppError('not_found', `No generation with id ${id}.`)
      if (g.dataset_id !== o.datasetId)
        throw new AppError(
          'invalid_argument',
          `Generation ${id} is of dataset ${g.dataset_id}, not of dataset ${o.datasetId}.`,
        )
    }
  }

  private contents(o: ExportOptions): ExportContents {
    try {
      return exportContents(this.ctx.db, this.ctx.generationFolder, o)
    } catch (err) {
      throw new AppError('invalid_argument', (err as Error).message)
    }
  }

  private run(
    id: number,
    o: ExportOptions,
    c: ExportContents,
    mode: 'new' | 'merge' | 'resume',
  ): void {
    const state = { stop: false, done: Promise.resolve() }
    const meter = new RateMeter()
    let lastEmit = 0
    const progress = (phase: 'copying' | 'report' | 'zipping', done: number, total: number) => {
      meter.update(done)
      const now = Date.now()
      if (now - lastEmit < 200 && done < total) return
      lastEmit = now
      this.emit({
        type: 'progress',
        progress: {
          exportId: id,
          phase,
          done,
          total,
          rate: meter.rate(),
          etaSeconds: meter.eta(done, total),
        },
      })
    }
    const summary = this.get(id)
    const ds = this.ctx.datasets.get(o.datasetId)
    const runs = this.reportRuns(c)
    const evaluations = this.latestEvaluations(c)
    const weightOf = new Map(evaluations.map((e) => [e.generationId, suggestedSyntheticWeight(e)]))
    const rows = (written: WrittenFile[]): ManifestRow[] =>
      written.map((w, i) => {
        const f = c.files[i]
        return {
          file_name: w.rel,
          ...f.meta,
          sha256: w.sha256,
          loss_weight: f.generationId === null ? 1 : (weightOf.get(f.generationId) ?? 1),
        }
      })
    state.done = (async () => {
      this.emit({ type: 'status', export: this.get(id) })
      try {
        const result = await writeExport({
          root: o.out,
          files: c.files,
          mode,
          fingerprint: JSON.stringify({ ...o, out: undefined, merge: undefined }),
          finalFiles: [
            {
              rel: 'report.html',
              bytes: () => {
                progress('report', c.files.length, c.files.length)
                return reportHtml({
                  datasetName: ds?.name ?? `dataset ${o.datasetId}`,
                  options: o,
                  classes: c.classes,
                  files: c.files,
                  runs,
                  mixedSizes: c.mixedSizes,
                  manifests: manifestFiles(o, c).map((m) => m.rel),
                  heldOutCopies: c.heldOutCopies,
                  evaluations,
                  createdAt: new Date(summary.createdAt),
                })
              },
            },
            ...(evaluationSplit(c.files)
              ? [
                  {
                    rel: 'evaluation_split.json',
                    bytes: () =>
                      Buffer.from(`${JSON.stringify(evaluationSplit(c.files), null, 2)}\n`),
                  },
                ]
              : []),
            ...(o.classWeights
              ? [
                  {
                    rel: 'class_weights.json',
                    bytes: () =>
                      Buffer.from(
                        `${JSON.stringify(classWeights(c.files, c.classes, o.splits !== null), null, 2)}\n`,
                      ),
                  },
                ]
              : []),
            ...manifestFiles(o, c).map((m) => ({
              rel: m.rel,
              bytes: (w: WrittenFile[]) => Buffer.from(m.text(rows(w))),
            })),
          ],
          onProgress: (p) => progress('copying', p.done, p.total),
          shouldStop: () => state.stop,
        })
        let zipPath: string | null = null
        if (o.zip) {
          zipPath = zipPathFor(o.out)
          meter.reset()
          await zipFolder(
            o.out,
            zipPath,
            (p) => progress('zipping', p.done, p.total),
            () => state.stop,
          )
        }
        const bytes = result.written.reduce((a, w) => a + w.bytes, 0)
        this.ctx.exports.finish(id, 'completed', {
          files: result.written.length,
          bytes,
          zipPath,
        })
      } catch (err) {
        const e = appError(err)
        this.ctx.exports.finish(id, e.code === 'cancelled' ? 'cancelled' : 'failed', {
          error: e.message,
        })
      } finally {
        this.live.delete(id)
        this.emit({ type: 'status', export: this.get(id) })
      }
    })()
    this.live.set(id, state)
  }

  /** Each exported generation's newest completed downstream check, for the report and weights. */
  private latestEvaluations(c: ExportContents): EvaluationSummary[] {
    return c.generations
      .filter((g) => g.accepted > 0)
      .map((g) => this.evaluations.list(g.id).find((e) => e.status === 'completed'))
      .filter((e) => e !== undefined)
  }

  private reportRuns(c: ExportContents): ReportRun[] {
    return c.generations.map((g) => {
      const r = this.ctx.db
        .prepare(
          `SELECT g.temperature, g.filters, g.classifier_accuracy, r.settings, r.epochs_done, r.best_val_loss
           FROM generations g JOIN runs r ON r.id = g.run_id WHERE g.id = ?`,
        )
        .get(g.id) as {
        temperature: number
        filters: string
        classifier_accuracy: number | null
        settings: string
        epochs_done: number
        best_val_loss: number | null
      }
      return {
        generationId: g.id,
        runId: g.runId,
        accepted: g.accepted,
        settings: JSON.parse(r.settings) as Record<string, unknown>,
        epochsDone: r.epochs_done,
        bestValLoss: r.best_val_loss,
        classifierAccuracy: r.classifier_accuracy,
        temperature: r.temperature,
        filters: JSON.parse(r.filters) as Record<string, number>,
      }
    })
  }
}

/**
 * The metadata files an export writes, as Hugging Face's imagefolder loads them as is: one file
 * per split folder (a root one beside split folders belongs to no split and is ignored), with
 * `file_name` relative to it, and one format only (the loader refuses two extensions).
 */
export function manifestFiles(
  o: Pick<ExportOptions, 'splits' | 'metadata'>,
  c: Pick<ExportContents, 'files'>,
): { rel: string; text: (rows: ManifestRow[]) => string }[] {
  const write = o.metadata === 'jsonl' ? manifestJsonl : manifestCsv
  const name = `metadata.${o.metadata === 'jsonl' ? 'jsonl' : 'csv'}`
  if (!o.splits) return [{ rel: name, text: write }]
  const splits = [...new Set(c.files.map((f) => f.meta.split!))]
  return (['train', 'val', 'test'] as const)
    .filter((s) => splits.includes(s))
    .map((split) => ({
      rel: `${split}/${name}`,
      text: (rows: ManifestRow[]) =>
        write(
          rows
            .filter((r) => r.split === split)
            .map((r) => ({ ...r, file_name: r.file_name.slice(split.length + 1) })),
        ),
    }))
}

function nonEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0
  } catch {
    return false
  }
}

/** The .zip sits beside the export folder: <parent>/<name>.zip. */
export function zipPathFor(out: string): string {
  return join(dirname(out), `${basename(out)}.zip`)
}
