import type { Database } from 'better-sqlite3'
import type { EpochMetrics, RunOverrides, RunStatus, RunSummary } from '../../shared/runs'
import type { TrainSettings } from '../../shared/train-settings'
import type { RunForecast } from '../../shared/forecast'

interface RunRow {
  id: number
  dataset_id: number
  status: RunStatus
  settings: string
  class_names: string
  backend: string | null
  device: string | null
  backend_notes: string | null
  pid: number | null
  supervisor_pid: number | null
  error: string | null
  epochs_done: number
  best_val_loss: number | null
  train_images: number | null
  val_images: number | null
  created_at: number
  started_at: number | null
  finished_at: number | null
  held_out_excluded: 0 | 1
  forecast: string | null
  overrides: string | null
}

const EPOCH_COLUMNS = `epoch, loss, reconstruction, kl, val_loss AS valLoss, val_reconstruction AS valReconstruction,
  val_kl AS valKl, active_units AS activeUnits, learning_rate AS learningRate, images_per_second AS imagesPerSecond, seconds, extra`

/** The figures only some families have (EpochMetrics' optional fields), kept as JSON. */
const EXTRA_KEYS = ['stage', 'perplexity', 'usedCodes', 'restartedCodes'] as const

function extraOf(m: EpochMetrics): string | null {
  const extra = Object.fromEntries(
    EXTRA_KEYS.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]),
  )
  return Object.keys(extra).length ? JSON.stringify(extra) : null
}

function epochRow(
  r: (EpochMetrics & { extra: string | null }) | undefined,
): EpochMetrics | undefined {
  if (!r) return undefined
  const { extra, ...m } = r
  return extra ? { ...m, ...(JSON.parse(extra) as Partial<EpochMetrics>) } : m
}

/** Runs, epochs and checkpoints. Only the run supervisor in main writes here. */
export class RunsRepo {
  constructor(private readonly db: Database) {}

  /**
   * A new run; new runs train without the dataset's evaluation split. The run records the
   * person's overrides it trains with (how many images relabelled and excluded, and the latest
   * change), so a run from before a correction can be told from one after it.
   */
  create(datasetId: number, settings: TrainSettings, classNames: string[]): number {
    const now = Date.now()
    return Number(
      this.db
        .prepare(
          `INSERT INTO runs (dataset_id, status, settings, class_names, created_at, updated_at, held_out_excluded, overrides)
           SELECT ?, 'running', ?, ?, ?, ?, 1, json_object(
             'relabelled', COALESCE(SUM(o.class_id IS NOT NULL AND o.class_id <> i.class_id AND o.excluded = 0), 0),
             'excluded', COALESCE(SUM(o.excluded), 0),
             'changedAt', MAX(o.updated_at))
           FROM image_overrides o JOIN images i ON i.id = o.image_id AND i.status = 'ok' WHERE o.dataset_id = ?`,
        )
        .run(datasetId, JSON.stringify(settings), JSON.stringify(classNames), now, now, datasetId)
        .lastInsertRowid,
    )
  }

  row(id: number): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
  }

  get(id: number): RunSummary | undefined {
    const r = this.row(id)
    return r ? this.summarise(r) : undefined
  }

  list(datasetId?: number): RunSummary[] {
    const rows = (
      datasetId
        ? this.db.prepare('SELECT * FROM runs WHERE dataset_id = ? ORDER BY id DESC').all(datasetId)
        : this.db.prepare('SELECT * FROM runs ORDER BY id DESC').all()
    ) as RunRow[]
    return rows.map((r) => this.summarise(r))
  }

  epochs(runId: number): EpochMetrics[] {
    return this.db
      .prepare(`SELECT ${EPOCH_COLUMNS} FROM run_epochs WHERE run_id = ? ORDER BY epoch`)
      .all(runId)
      .map((r) => epochRow(r as EpochMetrics & { extra: string | null })!)
  }

  checkpoint(runId: number, kind: 'last' | 'best'): { epoch: number; path: string } | undefined {
    return this.db
      .prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ? AND kind = ?')
      .get(runId, kind) as { epoch: number; path: string } | undefined
  }

  markStarted(id: number, pid: number): void {
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', pid = ?, supervisor_pid = ?, error = NULL, forecast = NULL, started_at = COALESCE(started_at, ?), finished_at = NULL, updated_at = ? WHERE id = ?`,
      )
      .run(pid, process.pid, Date.now(), Date.now(), id)
  }

  setBackend(
    id: number,
    backend: string,
    device: string,
    notes: string[],
    train: number,
    val: number,
  ): void {
    this.db
      .prepare(
        'UPDATE runs SET backend = ?, device = ?, backend_notes = ?, train_images = ?, val_images = ?, updated_at = ? WHERE id = ?',
      )
      .run(backend, device, JSON.stringify(notes), train, val, Date.now(), id)
  }

  addEpoch(id: number, m: EpochMetrics): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO run_epochs (run_id, epoch, loss, reconstruction, kl, val_loss, val_reconstruction, val_kl, active_units,
             learning_rate, images_per_second, seconds, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          m.epoch,
          m.loss,
          m.reconstruction,
          m.kl,
          m.valLoss,
          m.valReconstruction,
          m.valKl,
          m.activeUnits,
          m.learningRate,
          m.imagesPerSecond,
          m.seconds,
          extraOf(m),
        )
      this.db
        .prepare('UPDATE runs SET epochs_done = ?, updated_at = ? WHERE id = ?')
        .run(m.epoch + 1, Date.now(), id)
    })()
  }

  setCheckpoint(
    id: number,
    kind: 'last' | 'best',
    epoch: number,
    path: string,
    bestValLoss: number | null,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT OR REPLACE INTO checkpoints (run_id, kind, epoch, path, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(id, kind, epoch, path, Date.now())
      this.db
        .prepare('UPDATE runs SET best_val_loss = ?, updated_at = ? WHERE id = ?')
        .run(bestValLoss, Date.now(), id)
    })()
  }

  setForecast(id: number, forecast: RunForecast): void {
    this.db
      .prepare('UPDATE runs SET forecast = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(forecast), Date.now(), id)
  }

  finish(id: number, status: Exclude<RunStatus, 'running'>, error: string | null): void {
    this.db
      .prepare(
        'UPDATE runs SET status = ?, error = ?, pid = NULL, finished_at = ?, updated_at = ? WHERE id = ?',
      )
      .run(status, error, Date.now(), Date.now(), id)
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id)
  }

  /**
   * Runs whose process or supervisor is gone (app, CLI or machine stopped) become interrupted,
   * ready to resume. A training process outliving its supervisor only winds down (it stops when
   * its channel closes) and nobody would record its end.
   */
  recoverInterrupted(isAlive: (pid: number) => boolean): void {
    const rows = this.db
      .prepare(`SELECT id, pid, supervisor_pid FROM runs WHERE status = 'running'`)
      .all() as { id: number; pid: number | null; supervisor_pid: number | null }[]
    for (const r of rows) {
      const supervised = r.supervisor_pid === null || isAlive(r.supervisor_pid)
      if (r.pid !== null && isAlive(r.pid) && supervised) continue
      this.finish(
        r.id,
        'interrupted',
        'The run was interrupted (the app or computer stopped). Resume it to continue from its last checkpoint.',
      )
    }
  }

  private summarise(r: RunRow): RunSummary {
    const checkpoints = this.db
      .prepare('SELECT kind, epoch FROM checkpoints WHERE run_id = ? ORDER BY kind')
      .all(r.id) as RunSummary['checkpoints']
    const last = this.db
      .prepare(
        `SELECT ${EPOCH_COLUMNS} FROM run_epochs WHERE run_id = ? ORDER BY epoch DESC LIMIT 1`,
      )
      .get(r.id) as (EpochMetrics & { extra: string | null }) | undefined
    return {
      id: r.id,
      datasetId: r.dataset_id,
      status: r.status,
      settings: JSON.parse(r.settings) as TrainSettings,
      classNames: JSON.parse(r.class_names) as string[],
      backend: r.backend,
      device: r.device,
      backendNotes: r.backend_notes ? (JSON.parse(r.backend_notes) as string[]) : [],
      error: r.error,
      epochsDone: r.epochs_done,
      bestValLoss: r.best_val_loss,
      trainImages: r.train_images,
      valImages: r.val_images,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      checkpoints,
      lastMetrics: epochRow(last) ?? null,
      heldOutExcluded: r.held_out_excluded === 1,
      forecast: r.forecast ? (JSON.parse(r.forecast) as RunForecast) : null,
      overrides: r.overrides ? (JSON.parse(r.overrides) as RunOverrides) : null,
    }
  }
}
