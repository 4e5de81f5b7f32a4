import type { Database } from 'better-sqlite3'
import type {
  ExportClassCount,
  ExportOptions,
  ExportStatus,
  ExportSummary,
} from '../../shared/export'

interface ExportRow {
  id: number
  dataset_id: number
  status: ExportStatus
  destination: string
  options: string
  classes: string
  files: number
  bytes: number
  zip_path: string | null
  pid: number | null
  error: string | null
  created_at: number
  finished_at: number | null
}

/** Exports: one row per export, written by the export supervisor in main. */
export class ExportsRepo {
  constructor(private readonly db: Database) {}

  create(o: ExportOptions, classes: ExportClassCount[], pid: number): number {
    const now = Date.now()
    return Number(
      this.db
        .prepare(
          `INSERT INTO exports (dataset_id, status, destination, options, classes, pid, created_at, updated_at)
           VALUES (?, 'running', ?, ?, ?, ?, ?, ?)`,
        )
        .run(o.datasetId, o.out, JSON.stringify(o), JSON.stringify(classes), pid, now, now)
        .lastInsertRowid,
    )
  }

  get(id: number): ExportSummary | undefined {
    const r = this.db.prepare('SELECT * FROM exports WHERE id = ?').get(id) as ExportRow | undefined
    return r ? summarise(r) : undefined
  }

  list(datasetId?: number): ExportSummary[] {
    const rows = (
      datasetId
        ? this.db
            .prepare('SELECT * FROM exports WHERE dataset_id = ? ORDER BY id DESC')
            .all(datasetId)
        : this.db.prepare('SELECT * FROM exports ORDER BY id DESC').all()
    ) as ExportRow[]
    return rows.map(summarise)
  }

  markRunning(id: number, pid: number): void {
    this.db
      .prepare(
        `UPDATE exports SET status = 'running', pid = ?, error = NULL, finished_at = NULL, updated_at = ? WHERE id = ?`,
      )
      .run(pid, Date.now(), id)
  }

  finish(
    id: number,
    status: Exclude<ExportStatus, 'running'>,
    r: { files?: number; bytes?: number; zipPath?: string | null; error?: string | null },
  ): void {
    this.db
      .prepare(
        `UPDATE exports SET status = ?, files = COALESCE(?, files), bytes = COALESCE(?, bytes), zip_path = COALESCE(?, zip_path),
           error = ?, pid = NULL, finished_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        status,
        r.files ?? null,
        r.bytes ?? null,
        r.zipPath ?? null,
        r.error ?? null,
        Date.now(),
        Date.now(),
        id,
      )
  }

  recoverInterrupted(isAlive: (pid: number) => boolean): void {
    const rows = this.db.prepare(`SELECT id, pid FROM exports WHERE status = 'running'`).all() as {
      id: number
      pid: number | null
    }[]
    for (const r of rows) {
      if (r.pid !== null && isAlive(r.pid)) continue
      this.finish(r.id, 'interrupted', {
        error:
          'The export was interrupted (the app or computer stopped). Resume it to finish, or clean it up to remove what it wrote.',
      })
    }
  }
}

function summarise(r: ExportRow): ExportSummary {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    status: r.status,
    options: JSON.parse(r.options) as ExportOptions,
    classes: JSON.parse(r.classes) as ExportClassCount[],
    files: r.files,
    bytes: r.bytes,
    zipPath: r.zip_path,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }
}
