import type { Core } from '../core/core'
import { formatDuration } from '../shared/format'
import { flipByDefault, type GenerationSummary, type Plan } from '../shared/generation'
import { describeStrategy, parseStrategy, PlanError } from '../shared/plan'
import { call, numberFlag, parse, UsageError } from './args'
import { followJob } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'

function planTable(plan: Plan): string {
  const names = plan.rows.map((r) => safe(r.className))
  const w = Math.max(5, ...names.map((n) => n.length))
  const lines = [
    `${'class'.padEnd(w)}  ${'real'.padStart(6)}  ${'generate'.padStart(8)}  ${'total'.padStart(6)}`,
  ]
  plan.rows.forEach((r, i) =>
    lines.push(
      `${names[i].padEnd(w)}  ${String(r.real).padStart(6)}  ${String(r.toGenerate).padStart(8)}  ${String(r.total).padStart(6)}${r.capped ? `  (capped at ${plan.maxRatio}:1; asked for ${r.target - r.real})` : ''}`,
    ),
  )
  return lines.join('\n')
}

/**
 * synthfold generate <run> [--strategy S] [--max-ratio R] [--temperature T] [--checkpoint K]
 * [--min-confidence P] [--json]: plans, generates with the default filters, and reports the counts
 * and the folder of the samples. `generate --refill <generation> [--json]` generates more for the
 * classes of a generation under their plan (after rejections, a cancel or a kill), reported alike.
 * `--augment C1,C2` makes those classes by classic augmentation of their real images instead of
 * the generator, mirrored where the class name allows it unless `--no-flip C1,...|all` says not.
 */
export async function generateCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    [
      'strategy',
      'max-ratio',
      'temperature',
      'checkpoint',
      'min-confidence',
      'refill',
      'augment',
      'no-flip',
    ],
    ['json'],
  )
  const json = flags.has('json')
  const refill = flags.get('refill')
  if (refill !== undefined) {
    if (typeof refill !== 'string' || !/^\d+$/.test(refill) || positional.length)
      throw new UsageError('generate --refill needs the generation id (a number) and no run')
    const generationId = Number(refill)
    if (!json) process.stderr.write(`Refilling generation ${generationId}\n`)
    return follow(core, () => call(core, 'generations.refill', { generationId }), json)
  }
  if (positional.length !== 1 || !/^\d+$/.test(positional[0]))
    throw new UsageError('generate needs the run id (a number)')
  const runId = Number(positional[0])
  let strategy
  try {
    const s = flags.get('strategy')
    strategy = parseStrategy(typeof s === 'string' ? s : 'not-majority')
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(err.message)
    throw err
  }
  const ratioFlag = flags.get('max-ratio')
  const maxRatio = ratioFlag === 'none' ? null : numberFlag(flags, 'max-ratio')
  const minConfidence = numberFlag(flags, 'min-confidence')
  const list = (name: string): string[] => {
    const v = flags.get(name)
    if (v === undefined) return []
    if (v === true || !v.trim())
      throw new UsageError(`--${name} needs class names, comma-separated`)
    return v.split(',').map((c) => c.trim())
  }
  const augmented = list('augment')
  const noFlip = list('no-flip')
  if (noFlip.length && !augmented.length)
    throw new UsageError('--no-flip applies to the classes of --augment; name them first')
  const augment = {
    classes: augmented,
    flip: augmented.filter(
      (c) => flipByDefault(c) && !noFlip.includes(c) && !noFlip.includes('all'),
    ),
  }
  const plan = await call(core, 'generations.plan', { runId, strategy, maxRatio })
  if (!json)
    process.stderr.write(
      `Plan (${safe(describeStrategy(strategy))}, at most ${plan.maxRatio ?? '∞'} synthetic per real image):\n${planTable(plan)}\n`,
    )
  return follow(
    core,
    () =>
      call(core, 'generations.start', {
        runId,
        strategy,
        maxRatio,
        temperature: numberFlag(flags, 'temperature'),
        checkpoint: flags.get('checkpoint') as 'best' | undefined,
        filters: minConfidence === undefined ? {} : { minConfidence },
        augment,
      }),
    json,
  )
}

/** Follows a generation (new or refill) to its end and prints the summary: text or one JSON object. */
async function follow(
  core: Core,
  start: () => Promise<GenerationSummary>,
  json: boolean,
): Promise<number> {
  const tty = process.stderr.isTTY && !json
  const final = await followJob({
    core,
    channel: 'generation',
    tty,
    start,
    interrupt: (first) => ({
      message: 'Cancelling… (samples so far are kept)',
      cancel: () => core.call('generations.cancel', { generationId: first.id }),
    }),
    ended: (e, first) =>
      e.type === 'status' && e.generation.id === first.id && e.generation.status !== 'running'
        ? e.generation
        : null,
    show: (e, first) => {
      if (e.type !== 'progress' || e.progress.generationId !== first.id || !tty) return
      const p = e.progress
      process.stderr.write(
        `\r\x1b[2KGenerating ${blocks(p.accepted / Math.max(1, p.target))} ${p.accepted}/${p.target} accepted, ${p.rate.tried} tried${p.rate.stalled ? ' (not converging)' : ''}  ${safe(p.className ?? '')}  ETA ${formatDuration(p.etaSeconds)}`,
      )
    },
  })
  const sum = (k: 'accepted' | 'generated' | 'planned') =>
    final.classes.reduce((a, c) => a + c[k], 0)
  const filtered = (k: 'near-copy' | 'low-confidence' | 'duplicate') =>
    final.classes.reduce((a, c) => a + c.filtered[k], 0)
  if (json) {
    process.stdout.write(
      JSON.stringify({
        generationId: final.id,
        runId: final.runId,
        status: final.status,
        checkpoint: final.checkpoint,
        temperature: final.temperature,
        filters: final.filters,
        classifierAccuracy: final.classifierAccuracy,
        plan: final.plan.rows.map((r) => ({
          class: r.className,
          real: r.real,
          toGenerate: r.toGenerate,
          total: r.total,
          capped: r.capped,
        })),
        classes: final.classes.map((c) => ({
          class: c.className,
          planned: c.planned,
          generated: c.generated,
          accepted: c.accepted,
          filtered: c.filtered,
          source: c.source,
        })),
        accepted: sum('accepted'),
        generated: sum('generated'),
        folder: final.folder,
        note: final.note,
        error: final.error,
      }) + '\n',
    )
  } else {
    process.stdout.write(
      `Generation ${final.id}: ${final.status}. ${sum('accepted')} of ${sum('planned')} planned samples accepted by the default filters ` +
        `(${sum('generated')} generated; filtered: ${filtered('near-copy')} near-copies, ${filtered('low-confidence')} low confidence, ${filtered('duplicate')} duplicates).\n`,
    )
    if (final.classifierAccuracy !== null)
      process.stdout.write(
        `The run's classifier scores ${(final.classifierAccuracy * 100).toFixed(1)}% on held-out real images.\n`,
      )
    for (const c of final.classes.filter((c) => c.planned > 0))
      process.stdout.write(
        `  ${safe(c.className)}: ${c.accepted}/${c.planned} accepted${c.source === 'augment' ? ' (classic augmentation)' : ''}\n`,
      )
    process.stdout.write(`Samples: ${safe(final.folder)}/samples/<class index>/<seed>.png\n`)
    if (final.note) process.stdout.write(`Note: ${safe(final.note)}\n`)
    if (final.error) process.stdout.write(`Error: ${safe(final.error)}\n`)
  }
  return final.status === 'completed' ? 0 : final.status === 'cancelled' ? 130 : 1
}
