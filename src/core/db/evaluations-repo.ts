import type { Database } from 'better-sqlite3'
import type {
  ArmName,
  ArmResult,
  EvaluationStatus,
  EvaluationSummary,
} from '../../shared/evaluation'

interface EvaluationRow {
  id: number
  generation_id: number
  dataset_id: number
  status: EvaluationStatus
  seeds: number
  epochs: number | null
  held_out: string
  arms: string
  best: ArmName | null
  verdict: string | null
  seconds: number | null
  run_excluded_held_out: 0 | 1
  synthetic_images: number | null
  error: string | null
  pid: number | null
  created_at: number
  finished_at: number | null
}

/** Downstream checks. Only the evaluation supervisor writes here. */
export class EvaluationsRepo {
  constructor(private readonly db: Database) {}

  create(a: {
    generationId: number
    datasetId: number
    seeds: number
    epochs: number | null
    runExcludedHeldOut: boolean
  }): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO evaluations (generation_id, dataset_id, status, seeds, epochs, run_excluded_held_out, created_at)
           VALUES (?, ?, 'running', ?, ?, ?, ?)`,
        )
        .run(
          a.generationId,
          a.datasetId,
          a.seeds,
          a.epochs,
          a.runExcludedHeldOut ? 1 : 0,
          Date.now(),
        ).lastInsertRowid,
    )
  }

  get(id: number): EvaluationSummary | undefined {
    const r = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as
      EvaluationRow | undefined
    return r ? summarise(r) : undefined
  }

  /** A generation's evaluations, newest first. */
  list(generationId: number): EvaluationSummary[] {
    return (
      this.db
        .prepare('SELECT * FROM evaluations WHERE generation_id = ? ORDER BY id DESC')
        .all(generationId) as EvaluationRow[]
    ).map(summarise)
  }

  markRunning(id: number, pid: number): void {
    this.db
      .prepare('UPDATE evaluations SET pid = ?, supervisor_pid = ? WHERE id = ?')
      .run(pid, process.pid, id)
  }

  setStarted(id: number, heldOut: { class: string; count: number }[], syntheticImages: number) {
    this.db
      .prepare('UPDATE evaluations SET held_out = ?, synthetic_images = ? WHERE id = ?')
      .run(JSON.stringify(heldOut), syntheticImages, id)
  }

  /** Stores the arms finished so far (each arm once all its seeds are done). */
  setArms(id: number, arms: ArmResult[]): void {
    this.db.prepare('UPDATE evaluations SET arms = ? WHERE id = ?').run(JSON.stringify(arms), id)
  }

  finish(
    id: number,
    status: Exclude<EvaluationStatus, 'running'>,
    o: { best?: ArmName | null; verdict?: string | null; seconds?: number | null; error?: string },
  ): void {
    this.db
      .prepare(
        `UPDATE evaluations SET status = ?, best = ?, verdict = ?, seconds = ?, error = ?, pid = NULL, finished_at = ? WHERE id = ?`,
      )
      .run(
        status,
        o.best ?? null,
        o.verdict ?? null,
        o.seconds ?? null,
        o.error ?? null,
        Date.now(),
        id,
      )
  }

  /** Marks checks whose process is gone (the app or computer stopped) as interrupted. */
  recoverInterrupted(isAlive: (pid: number) => boolean): void {
    const rows = this.db
      .prepare(`SELECT id, pid, supervisor_pid FROM evaluations WHERE status = 'running'`)
      .all() as { id: number; pid: number | null; supervisor_pid: number | null }[]
    for (const r of rows) {
      // a process that outlived its supervisor (or a reused pid) is not a live check
      const supervised = r.supervisor_pid === null || isAlive(r.supervisor_pid)
      if (r.pid !== null && isAlive(r.pid) && supervised) continue
      this.finish(r.id, 'interrupted', {
        error: 'The evaluation was interrupted (the app or computer stopped). Start it again.',
      })
    }
  }
}

function summarise(r: EvaluationRow): EvaluationSummary {
  return {
    id: r.id,
    generationId: r.generation_id,
    datasetId: r.dataset_id,
    status: r.status,
    seeds: r.seeds,
    epochs: r.epochs,
    heldOut: JSON.parse(r.held_out) as EvaluationSummary['heldOut'],
    arms: JSON.parse(r.arms) as ArmResult[],
    best: r.best,
    verdict: r.verdict,
    seconds: r.seconds,
    runExcludedHeldOut: r.run_excluded_held_out === 1,
    syntheticImages: r.synthetic_images,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }
}
