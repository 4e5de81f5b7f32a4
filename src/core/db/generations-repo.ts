import type { Database } from 'better-sqlite3'
import { NO_AUGMENT } from '../../shared/generation'
import type {
  AugmentSettings,
  ClassCalibration,
  FilterSettings,
  GenerationClassCounts,
  GenerationStatus,
  GenerationSummary,
  Plan,
} from '../../shared/generation'
import type { SamplesRepo } from './samples-repo'

interface GenerationRow {
  id: number
  run_id: number
  dataset_id: number
  status: GenerationStatus
  checkpoint_kind: 'best' | 'last'
  checkpoint_epoch: number
  checkpoint_path: string
  temperature: number
  filters: string
  plan: string
  class_names: string
  next_seed: number
  classifier_accuracy: number | null
  calibration: string | null
  augment: string | null
  parent_id: number | null
  backend: string | null
  error: string | null
  note: string | null
  created_at: number
  finished_at: number | null
}

/** Generations. Only main writes here; their samples are in samples-repo.ts. */
export class GenerationsRepo {
  constructor(
    private readonly db: Database,
    private readonly samples: SamplesRepo,
  ) {}

  create(g: {
    runId: number
    datasetId: number
    checkpoint: { kind: 'best' | 'last'; epoch: number; path: string }
    temperature: number
    filters: FilterSettings
    plan: Plan
    classNames: string[]
    augment?: AugmentSettings
    /** The generation this one is a remedy for. */
    parentId?: number | null
  }): number {
    const now = Date.now()
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO generations (run_id, dataset_id, status, checkpoint_kind, checkpoint_epoch, checkpoint_path, temperature,
               filters, plan, class_names, next_seed, parent_id, created_at, updated_at, augment)
               VALUES (?, ?, 'running', ?, ?, '', ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
          )
          .run(
            g.runId,
            g.datasetId,
            g.checkpoint.kind,
            g.checkpoint.epoch,
            g.temperature,
            JSON.stringify(g.filters),
            JSON.stringify(g.plan),
            JSON.stringify(g.classNames),
            g.parentId ?? null,
            now,
            now,
            g.augment?.classes.length ? JSON.stringify(g.augment) : null,
          ).lastInsertRowid,
      )
      // Seeds of different generations start far apart, so two generations never repeat a sample.
      this.db
        .prepare('UPDATE generations SET next_seed = ?, checkpoint_path = ? WHERE id = ?')
        .run(((id * 1_000_003) % 2_000_000_000) + 1, g.checkpoint.path, id)
      return id
    })()
  }

  row(id: number): GenerationRow | undefined {
    return this.db.prepare('SELECT * FROM generations WHERE id = ?').get(id) as
      GenerationRow | undefined
  }

  get(id: number, folder: (id: number) => string): GenerationSummary | undefined {
    const r = this.row(id)
    return r ? this.summarise(r, folder(r.id)) : undefined
  }

  list(
    where: { runId?: number; datasetId?: number },
    folder: (id: number) => string,
  ): GenerationSummary[] {
    const rows = (
      where.runId
        ? this.db
            .prepare('SELECT * FROM generations WHERE run_id = ? ORDER BY id DESC')
            .all(where.runId)
        : where.datasetId
          ? this.db
              .prepare('SELECT * FROM generations WHERE dataset_id = ? ORDER BY id DESC')
              .all(where.datasetId)
          : this.db.prepare('SELECT * FROM generations ORDER BY id DESC').all()
    ) as GenerationRow[]
    return rows.map((r) => this.summarise(r, folder(r.id)))
  }

  /** Just the class names (what every page of samples needs), without the per-class counts. */
  classNames(id: number): string[] | undefined {
    const r = this.db.prepare('SELECT class_names FROM generations WHERE id = ?').get(id) as
      { class_names: string } | undefined
    return r ? (JSON.parse(r.class_names) as string[]) : undefined
  }

  /** Where a sample's PNG is (the media route's only question), without its latent vector. */
  setCheckpointPath(id: number, path: string): void {
    this.db.prepare('UPDATE generations SET checkpoint_path = ? WHERE id = ?').run(path, id)
  }

  markRunning(id: number, pid: number): void {
    this.db
      .prepare(
        `UPDATE generations SET status = 'running', pid = ?, error = NULL, note = NULL, finished_at = NULL, updated_at = ? WHERE id = ?`,
      )
      .run(pid, Date.now(), id)
  }

  setStarted(
    id: number,
    backend: string,
    accuracy: number | null,
    calibration: ClassCalibration[] | null,
  ): void {
    this.db
      .prepare(
        'UPDATE generations SET backend = ?, classifier_accuracy = ?, calibration = ?, updated_at = ? WHERE id = ?',
      )
      .run(backend, accuracy, calibration ? JSON.stringify(calibration) : null, Date.now(), id)
  }

  finish(
    id: number,
    status: Exclude<GenerationStatus, 'running'>,
    error: string | null,
    note: string | null,
  ): void {
    this.db
      .prepare(
        'UPDATE generations SET status = ?, error = ?, note = ?, pid = NULL, finished_at = ?, updated_at = ? WHERE id = ?',
      )
      .run(status, error, note, Date.now(), Date.now(), id)
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM generations WHERE id = ?').run(id)
  }

  /** Returns the ids it marked interrupted. */
  recoverInterrupted(isAlive: (pid: number) => boolean): number[] {
    const rows = this.db
      .prepare(`SELECT id, pid FROM generations WHERE status = 'running'`)
      .all() as { id: number; pid: number | null }[]
    const stopped = rows.filter((r) => r.pid === null || !isAlive(r.pid)).map((r) => r.id)
    for (const id of stopped)
      this.finish(
        id,
        'interrupted',
        'Generation was interrupted (the app or computer stopped). Its samples are kept; use Refill to generate the rest.',
        null,
      )
    return stopped
  }

  private summarise(r: GenerationRow, folder: string): GenerationSummary {
    const plan = JSON.parse(r.plan) as Plan
    const classNames = JSON.parse(r.class_names) as string[]
    const counts = this.samples.classCounts(r.id)
    const augment = r.augment ? (JSON.parse(r.augment) as AugmentSettings) : NO_AUGMENT
    const classes: GenerationClassCounts[] = plan.rows.map((p) => ({
      className: p.className,
      classIndex: p.classIndex,
      real: p.real,
      planned: p.toGenerate,
      generated: 0,
      accepted: 0,
      rejected: 0,
      reviewed: 0,
      filtered: { 'near-copy': 0, 'low-confidence': 0, duplicate: 0 },
      source: augment.classes.includes(p.className) ? 'augment' : 'cvae',
    }))
    for (const k of counts) {
      const c = classes[k.c]
      if (!c) continue
      c.generated += k.n
      if (k.status === 'accepted') c.accepted += k.n
      else c.rejected += k.n
      if (k.reviewed) c.reviewed += k.n
      if (k.reason) c.filtered[k.reason] += k.n
    }
    return {
      id: r.id,
      runId: r.run_id,
      datasetId: r.dataset_id,
      status: r.status,
      checkpoint: { kind: r.checkpoint_kind, epoch: r.checkpoint_epoch },
      temperature: r.temperature,
      filters: JSON.parse(r.filters) as FilterSettings,
      plan,
      classNames,
      classifierAccuracy: r.classifier_accuracy,
      calibration: r.calibration ? (JSON.parse(r.calibration) as ClassCalibration[]) : null,
      augment,
      parentId: r.parent_id,
      backend: r.backend,
      error: r.error,
      note: r.note,
      folder,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      classes,
    }
  }
}
