import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../../shared/result'
import {
  DEFAULT_FILTERS,
  flipByDefault,
  type AugmentSettings,
  type FilterSettings,
  type GenerationEvent,
  type GenerationSummary,
  type Plan,
  type Strategy,
} from '../../shared/generation'
import { planGeneration, PlanError } from '../../shared/plan'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { GenerationsRepo } from '../db/generations-repo'
import type { SamplesRepo } from '../db/samples-repo'
import type { RunsRepo } from '../db/runs-repo'
import { assertFolderFree, folderInUse } from '../util/paths'
import { diskFullMessage, isDiskFull } from '../util/disk'
import { startTrainerProcess, type TrainerProcess } from './ml-launcher'
import type { FromTrainer, GenerateJob } from '../../shared/ml-protocol'
import type { SpawnWorker } from './worker-process'

interface Live {
  proc: TrainerProcess
  outcome: {
    status: 'completed' | 'cancelled' | 'failed'
    error: string | null
    note: string | null
  } | null
  ended: Promise<void>
  started: number
}

/**
 * The supervisor of generations: plans them, starts one process per generation (or refill), and
 * is the only writer of their rows and samples. A generation keeps a copy of the checkpoint it
 * sampled from, so every sample can be made again exactly even after its run trains further.
 */
export class GenerationManager {
  private readonly live = new Map<number, Live>()

  constructor(
    private readonly ctx: {
      gens: GenerationsRepo
      samples: SamplesRepo
      runs: RunsRepo
      datasets: DatasetsRepo
      home: string
      dbPath: string
      spawn?: SpawnWorker
    },
    private readonly emit: (e: GenerationEvent) => void,
  ) {}

  folder = (id: number): string => join(this.ctx.home, 'generations', String(id))

  get(id: number): GenerationSummary {
    const g = this.ctx.gens.get(id, this.folder)
    if (!g) throw new AppError('not_found', `No generation with id ${id}.`)
    return g
  }

  list(where: { runId?: number; datasetId?: number }): GenerationSummary[] {
    return this.ctx.gens.list(where, this.folder)
  }

  /** Throws not_found when a list is asked for a run or dataset that does not exist. */
  mustExist(where: { runId?: number; datasetId?: number }): void {
    if (where.runId !== undefined && !this.ctx.runs.get(where.runId))
      throw new AppError('not_found', `No run with id ${where.runId}.`)
    if (where.datasetId !== undefined && !this.ctx.datasets.get(where.datasetId))
      throw new AppError('not_found', `No dataset with id ${where.datasetId}.`)
  }

  plan(runId: number, strategy: Strategy, maxRatio: number | null): Plan {
    const run = this.ctx.runs.get(runId)
    if (!run) throw new AppError('not_found', `No run with id ${runId}.`)
    const ds = this.ctx.datasets.get(run.datasetId)
    const count = new Map(ds?.classes.map((c) => [c.name, c.count]) ?? [])
    try {
      return planGeneration(
        run.classNames.map((name) => ({ name, real: count.get(name) ?? 0 })),
        strategy,
        maxRatio,
      )
    } catch (err) {
      if (err instanceof PlanError) throw new AppError('invalid_argument', err.message)
      throw err
    }
  }

  start(a: {
    runId: number
    strategy: Strategy
    maxRatio: number | null
    temperature: number
    checkpoint: 'best' | 'last'
    filters?: Partial<FilterSettings>
    augment?: { classes: string[]; flip?: string[] }
    parentId?: number
  }): GenerationSummary {
    const run = this.ctx.runs.get(a.runId)
    if (!run) throw new AppError('not_found', `No run with id ${a.runId}.`)
    if (a.parentId !== undefined && this.get(a.parentId).runId !== a.runId)
      throw new AppError(
        'invalid_argument',
        `Generation ${a.parentId} is of another run; a remedy generates from the same run.`,
      )
    const augment = augmentSettings(run.classNames, a.augment)
    const other = a.checkpoint === 'best' ? 'last' : 'best'
    const wanted = this.ctx.runs.checkpoint(a.runId, a.checkpoint)
    const ck = wanted ?? this.ctx.runs.checkpoint(a.runId, other)
    const kind = wanted ? a.checkpoint : other
    if (!ck || !existsSync(ck.path))
      throw new AppError(
        'conflict',
        `Run ${a.runId} has no checkpoint to generate from yet; let it train for an epoch first.`,
      )
    const plan = this.plan(a.runId, a.strategy, a.maxRatio)
    // the filters' classifiers train without the evaluation split (set aside here for a run from
    // before it)
    this.ctx.datasets.ensureHeldOut(run.datasetId)
    if (plan.toGenerate === 0)
      throw new AppError(
        'invalid_argument',
        'This plan generates nothing: every class is already at its target (or capped at 0 by the ratio).',
      )
    const id = this.ctx.gens.create({
      runId: a.runId,
      datasetId: run.datasetId,
      checkpoint: { kind, epoch: ck.epoch, path: '' },
      temperature: a.temperature,
      filters: { ...DEFAULT_FILTERS, ...a.filters },
      plan,
      classNames: run.classNames,
      augment,
      parentId: a.parentId ?? null,
    })
    if (folderInUse(this.folder(id))) {
      // Left by a generation whose row is gone (a replaced database): never write over its samples.
      this.ctx.gens.delete(id)
      assertFolderFree(this.folder(id), 'generation')
    }
    const copy = join(this.folder(id), 'checkpoint')
    try {
      cpSync(ck.path, copy, { recursive: true })
    } catch (err) {
      this.ctx.gens.delete(id)
      rmSync(this.folder(id), { recursive: true, force: true })
      throw new AppError('io', `Could not copy the checkpoint for this generation: ${String(err)}`)
    }
    this.ctx.gens.setCheckpointPath(id, copy)
    this.launch(id)
    return this.get(id)
  }

  /** Generates more for classes whose accepted count is under the plan (after rejections or a stop). */
  refill(id: number, className?: string): GenerationSummary {
    const g = this.get(id)
    if (this.live.has(id)) throw new AppError('conflict', 'This generation is still running.')
    if (className !== undefined && !g.classNames.includes(className))
      throw new AppError(
        'invalid_argument',
        `No class ${JSON.stringify(className)} in this generation.`,
      )
    const need = g.classes.filter(
      (c) => c.accepted < c.planned && (className === undefined || c.className === className),
    )
    if (!need.length)
      throw new AppError(
        'conflict',
        'Every class already has the accepted samples its plan asks for.',
      )
    this.reconcile(id)
    this.launch(id, className)
    return this.get(id)
  }

  /**
   * Makes a stopped generation's files agree with its rows: a process killed between writing a
   * batch's PNGs and reporting them (or a supervisor that died first) leaves files no row knows;
   * they are removed, and a refill makes those seeds again.
   */
  reconcile(id: number): void {
    const dir = join(this.folder(id), 'samples')
    let entries: string[]
    try {
      entries = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    } catch {
      return // no samples folder yet
    }
    const known = new Set(this.ctx.samples.sampleFiles(id).map((f) => f.replace(/\\/g, '/')))
    for (const rel of entries) {
      const file = rel.replace(/\\/g, '/')
      if (/\.png(\.tmp)?$/.test(file) && !known.has(file)) rmSync(join(dir, rel), { force: true })
    }
  }

  cancel(id: number): boolean {
    const l = this.live.get(id)
    if (!l) return false
    l.proc.cancel()
    return true
  }

  isLive(id: number): boolean {
    return this.live.has(id)
  }

  delete(id: number): void {
    if (this.live.has(id))
      throw new AppError('conflict', 'Cancel the generation before deleting it.')
    this.ctx.gens.delete(id)
    rmSync(this.folder(id), { recursive: true, force: true })
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([id, l]) => {
        if (!l.outcome) this.cancel(id)
        return l.ended
      }),
    )
  }

  /**
   * The accepted samples a new batch must not repeat: the generation's own, and those of the
   * generation it is a remedy for (by absolute path), in the classes the two share.
   */
  private existing(g: GenerationSummary): GenerateJob['existing'] {
    const own = this.ctx.samples.acceptedSamples(g.id)
    if (g.parentId === null || !this.ctx.gens.row(g.parentId)) return own
    const classes = new Set(g.classes.filter((c) => c.planned > 0).map((c) => c.classIndex))
    const dir = join(this.folder(g.parentId), 'samples')
    const parent = this.ctx.samples
      .acceptedSamples(g.parentId)
      .filter((s) => classes.has(s.classIndex))
      .map((s) => ({ ...s, file: join(dir, s.file) }))
    return [...own, ...parent]
  }

  private launch(id: number, onlyClass?: string): void {
    const g = this.get(id)
    const row = this.ctx.gens.row(id)!
    const job: GenerateJob = {
      mode: 'generate',
      generationId: id,
      dbPath: this.ctx.dbPath,
      home: this.ctx.home,
      datasetId: g.datasetId,
      checkpointDir: row.checkpoint_path,
      outDir: join(this.folder(id), 'samples'),
      need: g.classes
        .filter(
          (c) => c.accepted < c.planned && (onlyClass === undefined || c.className === onlyClass),
        )
        .map((c) => ({ classIndex: c.classIndex, count: c.planned - c.accepted })),
      temperature: g.temperature,
      filters: g.filters,
      seedStart: row.next_seed,
      existing: this.existing(g),
      backend: 'auto',
      augment: g.classes
        .filter((c) => c.source === 'augment')
        .map((c) => ({ classIndex: c.classIndex, flip: g.augment.flip.includes(c.className) })),
    }
    let ended = (): void => undefined
    const live: Live = {
      proc: undefined as unknown as TrainerProcess,
      outcome: null,
      ended: new Promise<void>((r) => (ended = r)),
      started: Date.now(),
    }
    live.proc = startTrainerProcess(
      job,
      (m) => {
        try {
          this.onMessage(id, live, m)
        } catch (err) {
          // rows that cannot be stored (a full disk): stop, and the files without rows go
          live.outcome ??= {
            status: 'failed',
            error: isDiskFull(err)
              ? diskFullMessage(
                  'the database could not record the samples',
                  'Samples recorded so far are kept.',
                )
              : `The database could not record the samples: ${String(err)}`,
            note: null,
          }
          live.proc.cancel()
        }
      },
      (code, signal) => {
        this.live.delete(id)
        const tail = live.proc.stderrTail()
        const o = live.outcome ?? {
          status: 'failed' as const,
          error: `The generation process stopped unexpectedly (${signal ?? `exit code ${code}`}).${tail ? ` Last output: ${tail}` : ''}`,
          note: null,
        }
        try {
          this.reconcile(id)
          this.ctx.gens.finish(id, o.status, o.error, o.note)
          this.emit({ type: 'status', generation: this.get(id) })
        } catch {
          // a database or disk that takes no more writes: the next start marks it interrupted
          try {
            this.emit({ type: 'status', generation: { ...this.get(id), ...o } })
          } catch {
            // not even readable: nothing more to report
          }
        }
        ended()
      },
      this.ctx.spawn,
    )
    this.live.set(id, live)
    this.ctx.gens.markRunning(id, live.proc.proc.pid ?? 0)
    this.emit({ type: 'status', generation: this.get(id) })
  }

  private onMessage(id: number, live: Live, m: FromTrainer): void {
    if (m.type === 'gen-started') {
      this.ctx.gens.setStarted(
        id,
        `${m.backend.backend} (${m.backend.device})`,
        m.classifierAccuracy,
        m.calibration,
      )
      this.emit({ type: 'status', generation: this.get(id) })
    } else if (m.type === 'gen-samples') {
      this.ctx.samples.addSamples(id, m.rows)
      this.emit({ type: 'samples', generationId: id, added: m.rows.length })
    } else if (m.type === 'gen-progress') {
      this.emit({
        type: 'progress',
        progress: {
          generationId: id,
          accepted: m.accepted,
          target: m.target,
          generated: m.generated,
          filtered: m.filtered,
          samplesPerSecond: m.samplesPerSecond,
          etaSeconds: m.rate.etaSeconds,
          phase: m.phase,
          className: m.className,
          rate: m.rate,
        },
      })
    } else if (m.type === 'gen-done') {
      const g = this.get(id)
      const advice: Record<string, string> = {
        'near-copy':
          'most were near-copies of its training images (few images, or an overfitted model): raise the temperature or lower the near-copy threshold',
        'low-confidence':
          'most did not look enough like the class to the classifiers: lower the temperature, lower the confidence bar, or train longer',
        duplicate:
          'most repeated samples already accepted: raise the temperature or lower the duplicate threshold',
        'augment-duplicate':
          'most augmented copies repeated ones already accepted (too few real images for this many copies): lower the duplicate threshold, allow mirroring, or plan fewer',
      }
      const note = m.shortfall.length
        ? `Some classes are short. ${m.shortfall
            .map((s) => {
              const c = g.classes[s.classIndex]
              if (c.source === 'augment' && s.tried === 0)
                return `${c.className} has no real images to augment.`
              const main = (Object.entries(c.filtered) as [string, number][]).sort(
                (a, b) => b[1] - a[1],
              )[0]
              const key = c.source === 'augment' ? `augment-${main[0]}` : main[0]
              return `${c.className} needs ${s.missing} more of ${s.tried} tried; ${advice[key] ?? advice[main[0]]}.`
            })
            .join(' ')}`
        : null
      live.outcome ??= { status: m.outcome, error: null, note }
    } else if (m.type === 'error') {
      live.outcome ??= { status: 'failed', error: m.error.message, note: null }
    }
  }
}

/**
 * The augmented classes of a new generation, checked against the run's classes; the mirror is
 * allowed where asked, else where the class name allows it (flipByDefault).
 */
function augmentSettings(
  classNames: string[],
  a: { classes: string[]; flip?: string[] } | undefined,
): AugmentSettings {
  const classes = [...new Set(a?.classes ?? [])]
  for (const name of [...classes, ...(a?.flip ?? [])])
    if (!classNames.includes(name))
      throw new AppError(
        'invalid_argument',
        `No class ${JSON.stringify(name)} in this run (its classes: ${classNames.join(', ')}).`,
      )
  const flip = a?.flip
    ? classes.filter((c) => a.flip!.includes(c))
    : classes.filter((c) => flipByDefault(c))
  return { classes, flip }
}
