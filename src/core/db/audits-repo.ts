import type { Database } from 'better-sqlite3'
import type { AuditImage, AuditSort, AuditStatus, AuditSummary } from '../../shared/audit'
import type { AuditRow } from '../../shared/ml-protocol'

interface AuditDbRow {
  id: number
  run_id: number
  dataset_id: number
  status: AuditStatus
  checkpoint_kind: 'best' | 'last' | null
  checkpoint_epoch: number | null
  class_names: string
  method: string | null
  images: number
  seconds: number | null
  error: string | null
  pid: number | null
  supervisor_pid: number | null
  created_at: number
  finished_at: number | null
}

interface ImageDbRow {
  image_id: number
  rel_path: string
  label_index: number
  reconstruction_error: number
  anomaly_score: number
  suggested_index: number
  probs: Buffer
  nearest: string
  held_out: 0 | 1
  original_class: string
  current_class: string
  excluded: 0 | 1
}

const floats = (b: Buffer): Float32Array =>
  new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
const blob = (v: (number | null)[]): Buffer =>
  Buffer.from(Float32Array.from(v, (x) => x ?? NaN).buffer)

/** Audits and their per-image scores. Only the audit supervisor writes here. */
export class AuditsRepo {
  constructor(private readonly db: Database) {}

  create(a: {
    runId: number
    datasetId: number
    checkpoint: { kind: 'best' | 'last'; epoch: number }
  }): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO audits (run_id, dataset_id, status, checkpoint_kind, checkpoint_epoch, created_at)
           VALUES (?, ?, 'running', ?, ?, ?)`,
        )
        .run(a.runId, a.datasetId, a.checkpoint.kind, a.checkpoint.epoch, Date.now())
        .lastInsertRowid,
    )
  }

  get(id: number): AuditSummary | undefined {
    const r = this.db.prepare('SELECT * FROM audits WHERE id = ?').get(id) as AuditDbRow | undefined
    return r ? this.summarise(r) : undefined
  }

  /** The run's newest audit, and its newest completed one (what the lists show). */
  latest(runId: number, completed = false): AuditSummary | null {
    const r = this.db
      .prepare(
        `SELECT * FROM audits WHERE run_id = ? ${completed ? `AND status = 'completed'` : ''} ORDER BY id DESC LIMIT 1`,
      )
      .get(runId) as AuditDbRow | undefined
    return r ? this.summarise(r) : null
  }

  markRunning(id: number, pid: number): void {
    this.db
      .prepare('UPDATE audits SET pid = ?, supervisor_pid = ? WHERE id = ?')
      .run(pid, process.pid, id)
  }

  setStarted(id: number, classNames: string[]): void {
    this.db
      .prepare('UPDATE audits SET class_names = ? WHERE id = ?')
      .run(JSON.stringify(classNames), id)
  }

  addRows(id: number, rows: AuditRow[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO audit_images (audit_id, image_id, label_index, reconstruction_error, anomaly_score,
       suggested_index, probs, nll, latent, nearest) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM images WHERE id = ?)`,
    )
    this.db.transaction(() => {
      for (const r of rows)
        insert.run(
          id,
          r.imageId,
          r.labelIndex,
          r.reconstructionError,
          r.anomalyScore,
          r.suggestedIndex,
          blob(r.probs),
          blob(r.nll),
          blob(r.latent),
          JSON.stringify(r.nearest),
          r.imageId,
        )
    })()
  }

  /**
   * Ends an audit. Only a completed audit keeps its rows (a cancelled or failed one has a part of
   * the dataset, which would read as "the rest is fine"); it replaces the run's earlier ones.
   */
  finish(
    id: number,
    status: Exclude<AuditStatus, 'running'>,
    o: { method?: string | null; seconds?: number | null; error?: string },
  ): void {
    this.db.transaction(() => {
      const images = (
        this.db.prepare('SELECT COUNT(*) AS n FROM audit_images WHERE audit_id = ?').get(id) as {
          n: number
        }
      ).n
      this.db
        .prepare(
          `UPDATE audits SET status = ?, method = ?, seconds = ?, error = ?, images = ?, pid = NULL, finished_at = ? WHERE id = ?`,
        )
        .run(
          status,
          o.method ?? null,
          o.seconds ?? null,
          o.error ?? null,
          status === 'completed' ? images : 0,
          Date.now(),
          id,
        )
      if (status !== 'completed')
        this.db.prepare('DELETE FROM audit_images WHERE audit_id = ?').run(id)
      else
        this.db
          .prepare(
            `DELETE FROM audits WHERE run_id = (SELECT run_id FROM audits WHERE id = ?) AND id < ? AND status <> 'running'`,
          )
          .run(id, id)
    })()
  }

  /** Marks audits whose process is gone (the app or computer stopped) as interrupted. */
  recoverInterrupted(isAlive: (pid: number) => boolean): void {
    const rows = this.db
      .prepare(`SELECT id, pid, supervisor_pid FROM audits WHERE status = 'running'`)
      .all() as { id: number; pid: number | null; supervisor_pid: number | null }[]
    for (const r of rows) {
      const supervised = r.supervisor_pid === null || isAlive(r.supervisor_pid)
      if (r.pid !== null && isAlive(r.pid) && supervised) continue
      this.finish(r.id, 'interrupted', {
        error: 'The audit was interrupted (the app or computer stopped). Start it again.',
      })
    }
  }

  /**
   * Every scored image of an audit read against its current label (relabels since the audit
   * move its label-error score: the stored class probabilities do not depend on the label),
   * sorted most suspicious first.
   */
  images(auditId: number, sort: AuditSort = 'label-error'): AuditImage[] {
    const a = this.get(auditId)
    if (!a) return []
    const index = new Map(a.classNames.map((n, i) => [n, i]))
    const k = a.classNames.length
    const rows = this.db
      .prepare(
        `SELECT ai.image_id, i.rel_path, ai.label_index, ai.reconstruction_error, ai.anomaly_score, ai.suggested_index,
                ai.probs, ai.nearest, i.held_out, oc.name AS original_class, COALESCE(c.name, oc.name) AS current_class,
                COALESCE(o.excluded, 0) AS excluded
         FROM audit_images ai JOIN images i ON i.id = ai.image_id AND i.status = 'ok'
         JOIN classes oc ON oc.id = i.class_id
         LEFT JOIN image_overrides o ON o.image_id = i.id LEFT JOIN classes c ON c.id = o.class_id
         WHERE ai.audit_id = ? ORDER BY i.rel_path`,
      )
      .all(auditId) as ImageDbRow[]
    const out = rows.map((r): AuditImage => {
      const probs = floats(r.probs)
      const label = index.get(r.current_class) ?? -1
      let other = 0
      for (let c = 0; c < k; c++) if (c !== label && probs[c] > other) other = probs[c]
      const own = label >= 0 ? probs[label] : 0
      return {
        imageId: r.image_id,
        path: r.rel_path,
        class: r.current_class,
        originalClass: r.original_class,
        excluded: r.excluded === 1,
        heldOut: r.held_out === 1,
        reconstructionError: r.reconstruction_error,
        anomalyScore: r.anomaly_score,
        suggestedClass: a.classNames[r.suggested_index],
        labelErrorScore: other - own,
        labelProbability: own,
        nearest: JSON.parse(r.nearest) as number[],
      }
    })
    const key = sort === 'anomaly' ? 'anomalyScore' : 'labelErrorScore'
    return out.sort((x, y) => y[key] - x[key] || (x.path < y.path ? -1 : 1))
  }

  private summarise(r: AuditDbRow): AuditSummary {
    const missing =
      r.status === 'completed'
        ? (
            this.db
              .prepare(
                `SELECT COUNT(*) AS n FROM images i WHERE i.dataset_id = ? AND i.status = 'ok' AND i.class_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM audit_images ai WHERE ai.audit_id = ? AND ai.image_id = i.id)`,
              )
              .get(r.dataset_id, r.id) as { n: number }
          ).n
        : 0
    return {
      id: r.id,
      runId: r.run_id,
      datasetId: r.dataset_id,
      status: r.status,
      checkpoint:
        r.checkpoint_kind && r.checkpoint_epoch !== null
          ? { kind: r.checkpoint_kind, epoch: r.checkpoint_epoch }
          : null,
      classNames: JSON.parse(r.class_names) as string[],
      method: r.method,
      images: r.images,
      seconds: r.seconds,
      error: r.error,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      missing,
    }
  }
}
