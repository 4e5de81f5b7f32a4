import type { Database } from 'better-sqlite3'
import type {
  FilterReason,
  FilterSettings,
  GenerationClassCounts,
  GenerationStatus,
  GenerationSummary,
  Plan,
  SampleDetail,
  SampleItem,
  SampleStatus,
} from '../../../shared/generation'
import type { GeneratedRow } from '../jobs/train-protocol'

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
  backend: string | null
  error: string | null
  note: string | null
  created_at: number
  finished_at: number | null
}

export type SampleFilter = {
  classIndex?: number
  status: 'all' | 'accepted' | 'rejected' | 'filtered' | 'unreviewed' | 'reviewed'
  sort: 'id' | 'confidence' | 'novelty'
  order: 'asc' | 'desc'
}

const SAMPLE_COLUMNS = `id, generation_id AS generationId, class_index AS classIndex, seed, confidence, novelty,
  nearest_image_id AS nearestImageId, status, reason, reviewed`

/** Generations and samples. Only main writes here; decisions are written the moment they are made. */
export class GenerationsRepo {
  constructor(private readonly db: Database) {}

  create(g: {
    runId: number
    datasetId: number
    checkpoint: { kind: 'best' | 'last'; epoch: number; path: string }
    temperature: number
    filters: FilterSettings
    plan: Plan
    classNames: string[]
  }): number {
    const now = Date.now()
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO generations (run_id, dataset_id, status, checkpoint_kind, checkpoint_epoch, checkpoint_path, temperature,
               filters, plan, class_names, next_seed, created_at, updated_at) VALUES (?, ?, 'running', ?, ?, '', ?, ?, ?, ?, 0, ?, ?)`,
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
            now,
            now,
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
  sampleFile(id: number): { generationId: number; file: string } | undefined {
    return this.db
      .prepare('SELECT generation_id AS generationId, file FROM samples WHERE id = ?')
      .get(id) as { generationId: number; file: string } | undefined
  }

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

  setStarted(id: number, backend: string, accuracy: number | null): void {
    this.db
      .prepare(
        'UPDATE generations SET backend = ?, classifier_accuracy = ?, updated_at = ? WHERE id = ?',
      )
      .run(backend, accuracy, Date.now(), id)
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

  addSamples(id: number, rows: GeneratedRow[]): void {
    if (!rows.length) return
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO samples (generation_id, class_index, seed, latent, file, confidence, novelty, nearest_distance,
         nearest_image_id, duplicate_of_seed, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const now = Date.now()
    this.db.transaction(() => {
      let next = 0
      for (const r of rows) {
        insert.run(
          id,
          r.classIndex,
          r.seed,
          Buffer.from(Float32Array.from(r.latent).buffer),
          r.file,
          r.confidence,
          Number.isFinite(r.novelty) ? r.novelty : 1e9,
          Number.isFinite(r.nearestDistance) ? r.nearestDistance : 1e9,
          r.nearestImageId,
          r.duplicateOfSeed,
          r.reason ? 'rejected' : 'accepted',
          r.reason,
          now,
        )
        next = Math.max(next, r.seed + 1)
      }
      this.db
        .prepare(
          'UPDATE generations SET next_seed = MAX(next_seed, ?), updated_at = ? WHERE id = ?',
        )
        .run(next, now, id)
    })()
  }

  samples(
    generationId: number,
    f: SampleFilter,
    offset: number,
    limit: number,
    classNames: string[],
  ): { total: number; items: SampleItem[] } {
    const { where, params } = this.where(generationId, f)
    const total = (
      this.db.prepare(`SELECT COUNT(*) AS n FROM samples WHERE ${where}`).get(...params) as {
        n: number
      }
    ).n
    const items = this.db
      .prepare(
        `SELECT ${SAMPLE_COLUMNS} FROM samples WHERE ${where} ORDER BY ${orderBy(f)} LIMIT ? OFFSET ?`,
      )
      .all(...params, limit, offset) as (Omit<SampleItem, 'className' | 'reviewed'> & {
      reviewed: number
    })[]
    return {
      total,
      items: items.map((s) => ({
        ...s,
        reviewed: s.reviewed === 1,
        className: classNames[s.classIndex] ?? '?',
      })),
    }
  }

  sampleIds(generationId: number, f: SampleFilter): number[] {
    const { where, params } = this.where(generationId, f)
    return (
      this.db
        .prepare(`SELECT id FROM samples WHERE ${where} ORDER BY ${orderBy(f)}`)
        .all(...params) as { id: number }[]
    ).map((r) => r.id)
  }

  sample(
    id: number,
  ): (Omit<SampleDetail, 'className' | 'provenance'> & { file: string }) | undefined {
    const r = this.db
      .prepare(
        `SELECT ${SAMPLE_COLUMNS}, latent, file, duplicate_of_seed AS duplicateOfSeed, nearest_distance AS nearestDistance
         FROM samples WHERE id = ?`,
      )
      .get(id) as
      | (Omit<SampleDetail, 'latent' | 'reviewed' | 'className' | 'provenance'> & {
          latent: Buffer
          reviewed: number
        })
      | undefined
    if (!r) return undefined
    const f32 = new Float32Array(
      r.latent.buffer.slice(r.latent.byteOffset, r.latent.byteOffset + r.latent.byteLength),
    )
    return { ...r, reviewed: r.reviewed === 1, latent: Array.from(f32) }
  }

  /**
   * Records decisions at once (one transaction). Returns what each sample was before (for undo)
   * and the ids touched per generation.
   */
  decide(decisions: { id: number; status: SampleStatus; reviewed: boolean }[]): {
    previous: { id: number; status: SampleStatus; reviewed: boolean }[]
    touched: Map<number, number[]>
  } {
    const get = this.db.prepare(
      'SELECT generation_id AS g, status, reviewed FROM samples WHERE id = ?',
    )
    const set = this.db.prepare(
      'UPDATE samples SET status = ?, reviewed = ?, decided_at = ? WHERE id = ?',
    )
    const touched = new Map<number, number[]>()
    const previous: { id: number; status: SampleStatus; reviewed: boolean }[] = []
    const now = Date.now()
    this.db.transaction(() => {
      for (const d of decisions) {
        const row = get.get(d.id) as
          { g: number; status: SampleStatus; reviewed: number } | undefined
        if (!row) continue
        previous.push({ id: d.id, status: row.status, reviewed: row.reviewed === 1 })
        set.run(d.status, d.reviewed ? 1 : 0, d.reviewed ? now : null, d.id)
        const list = touched.get(row.g) ?? []
        list.push(d.id)
        touched.set(row.g, list)
      }
    })()
    return { previous, touched }
  }

  acceptedSamples(generationId: number): { classIndex: number; seed: number; file: string }[] {
    return this.db
      .prepare(
        `SELECT class_index AS classIndex, seed, file FROM samples WHERE generation_id = ? AND status = 'accepted'`,
      )
      .all(generationId) as { classIndex: number; seed: number; file: string }[]
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM generations WHERE id = ?').run(id)
  }

  /** Every sample file of a generation, relative to its samples folder. */
  sampleFiles(generationId: number): string[] {
    const rows = this.db
      .prepare('SELECT file FROM samples WHERE generation_id = ?')
      .all(generationId)
    return (rows as { file: string }[]).map((r) => r.file)
  }

  /** Returns the ids it marked interrupted. */
  recoverInterrupted(isAlive: (pid: number) => boolean): number[] {
    const rows = this.db
      .prepare(`SELECT id, pid FROM generations WHERE status = 'running'`)
      .all() as { id: number; pid: number | null }[]
    for (const r of rows) {
      if (r.pid !== null && isAlive(r.pid)) continue
      this.finish(
        r.id,
        'interrupted',
        'Generation was interrupted (the app or computer stopped). Its samples are kept; use Refill to generate the rest.',
        null,
      )
    }
    return rows.filter((r) => r.pid === null || !isAlive(r.pid)).map((r) => r.id)
  }

  private where(generationId: number, f: SampleFilter): { where: string; params: unknown[] } {
    const parts = ['generation_id = ?']
    const params: unknown[] = [generationId]
    if (f.classIndex !== undefined) {
      parts.push('class_index = ?')
      params.push(f.classIndex)
    }
    if (f.status === 'accepted' || f.status === 'rejected') {
      parts.push('status = ?')
      params.push(f.status)
    } else if (f.status === 'filtered') parts.push('reason IS NOT NULL')
    else if (f.status === 'unreviewed') parts.push('reviewed = 0')
    else if (f.status === 'reviewed') parts.push('reviewed = 1')
    return { where: parts.join(' AND '), params }
  }

  private summarise(r: GenerationRow, folder: string): GenerationSummary {
    const plan = JSON.parse(r.plan) as Plan
    const classNames = JSON.parse(r.class_names) as string[]
    const counts = this.db
      .prepare(
        `SELECT class_index AS c, status, reason, reviewed, COUNT(*) AS n FROM samples WHERE generation_id = ?
         GROUP BY class_index, status, reason, reviewed`,
      )
      .all(r.id) as {
      c: number
      status: SampleStatus
      reason: FilterReason | null
      reviewed: number
      n: number
    }[]
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

function orderBy(f: SampleFilter): string {
  const dir = f.order === 'desc' ? 'DESC' : 'ASC'
  if (f.sort === 'confidence') return `confidence ${dir}, id`
  if (f.sort === 'novelty') return `novelty ${dir}, id`
  return `id ${dir}`
}
