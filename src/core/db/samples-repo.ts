import type { Database } from 'better-sqlite3'
import type {
  AugmentTransform,
  FilterReason,
  SampleDetail,
  SampleItem,
  SampleStatus,
} from '../../shared/generation'
import type { GeneratedRow } from '../../shared/ml-protocol'

export type SampleFilter = {
  classIndex?: number
  status: 'all' | 'accepted' | 'rejected' | 'filtered' | 'unreviewed' | 'reviewed'
  sort: 'id' | 'confidence' | 'novelty'
  order: 'asc' | 'desc'
}

const SAMPLE_COLUMNS = `id, generation_id AS generationId, class_index AS classIndex, seed, confidence, novelty,
  nearest_image_id AS nearestImageId, status, reason, reviewed, source, source_image_id AS sourceImageId`

/**
 * A generation's samples and the review decisions on them. Only main writes here; a decision is
 * written the moment it is made (decide).
 */
export class SamplesRepo {
  constructor(private readonly db: Database) {}

  sampleFile(id: number): { generationId: number; file: string } | undefined {
    return this.db
      .prepare('SELECT generation_id AS generationId, file FROM samples WHERE id = ?')
      .get(id) as { generationId: number; file: string } | undefined
  }

  addSamples(id: number, rows: GeneratedRow[]): void {
    if (!rows.length) return
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO samples (generation_id, class_index, seed, latent, file, confidence, novelty, nearest_distance,
         nearest_image_id, duplicate_of_seed, status, reason, created_at, source, source_image_id, transform)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
          r.source ?? 'cvae',
          r.sourceImageId ?? null,
          r.transform ? JSON.stringify(r.transform) : null,
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
        `SELECT ${SAMPLE_COLUMNS}, latent, file, duplicate_of_seed AS duplicateOfSeed, nearest_distance AS nearestDistance,
           transform FROM samples WHERE id = ?`,
      )
      .get(id) as
      | (Omit<SampleDetail, 'latent' | 'reviewed' | 'className' | 'provenance' | 'transform'> & {
          latent: Buffer
          reviewed: number
          transform: string | null
        })
      | undefined
    if (!r) return undefined
    const f32 = new Float32Array(
      r.latent.buffer.slice(r.latent.byteOffset, r.latent.byteOffset + r.latent.byteLength),
    )
    return {
      ...r,
      reviewed: r.reviewed === 1,
      latent: Array.from(f32),
      transform: r.transform ? (JSON.parse(r.transform) as AugmentTransform) : null,
    }
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

  /** The current class, decision and scores of each sample that exists, in the order asked. */
  states(ids: number[]): {
    id: number
    generationId: number
    classIndex: number
    status: SampleStatus
    confidence: number
    novelty: number
  }[] {
    const get = this.db.prepare(
      `SELECT id, generation_id AS generationId, class_index AS classIndex, status, confidence, novelty
       FROM samples WHERE id = ?`,
    )
    const out: ReturnType<SamplesRepo['states']> = []
    for (const id of ids) {
      const r = get.get(id) as ReturnType<SamplesRepo['states']>[number] | undefined
      if (r) out.push(r)
    }
    return out
  }

  acceptedSamples(generationId: number): { classIndex: number; seed: number; file: string }[] {
    return this.db
      .prepare(
        `SELECT class_index AS classIndex, seed, file FROM samples WHERE generation_id = ? AND status = 'accepted'`,
      )
      .all(generationId) as { classIndex: number; seed: number; file: string }[]
  }

  /** Samples per class, decision, filter reason and review state, for a generation's summary. */
  classCounts(generationId: number): {
    c: number
    status: SampleStatus
    reason: FilterReason | null
    reviewed: number
    n: number
  }[] {
    return this.db
      .prepare(
        `SELECT class_index AS c, status, reason, reviewed, COUNT(*) AS n FROM samples WHERE generation_id = ?
         GROUP BY class_index, status, reason, reviewed`,
      )
      .all(generationId) as {
      c: number
      status: SampleStatus
      reason: FilterReason | null
      reviewed: number
      n: number
    }[]
  }

  /** Every sample file of a generation, relative to its samples folder. */
  sampleFiles(generationId: number): string[] {
    const rows = this.db
      .prepare('SELECT file FROM samples WHERE generation_id = ?')
      .all(generationId)
    return (rows as { file: string }[]).map((r) => r.file)
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
}

function orderBy(f: SampleFilter): string {
  const dir = f.order === 'desc' ? 'DESC' : 'ASC'
  if (f.sort === 'confidence') return `confidence ${dir}, id`
  if (f.sort === 'novelty') return `novelty ${dir}, id`
  return `id ${dir}`
}
