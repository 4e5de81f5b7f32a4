import type { Core } from '../core/core'
import type { AuditImage, AuditSummary } from '../shared/audit'
import { formatDuration } from '../shared/format'
import { call, parse, UsageError } from './args'
import { followJob } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'
import { datasetId } from './train'

/** How many suspects the readable list shows of each kind. */
const TOP = 15

/**
 * synthfold audit <run> [--json]: outliers and likely label errors of the run's dataset, through
 * the run's model. Audits first when the run has no complete audit of the dataset as it is (a
 * progress bar; Ctrl-C cancels, exit 130).
 */
export async function auditCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, [], ['json', 'again'])
  const json = flags.has('json')
  if (positional.length !== 1 || !/^\d+$/.test(positional[0]))
    throw new UsageError('audit needs the run id (a number)')
  const runId = Number(positional[0])
  let audit = (await call(core, 'audits.latest', { runId })).completed
  if (!audit || audit.missing > 0 || flags.has('again')) {
    const tty = process.stderr.isTTY && !json
    if (!json) process.stderr.write(`Auditing the dataset of run ${runId}\n`)
    const final = await followJob({
      core,
      channel: 'audit',
      tty,
      start: () => call(core, 'audits.start', { runId }),
      started: (first) => {
        if (!json) process.stderr.write(`Audit ${first.id} started (Ctrl-C cancels)\n`)
      },
      interrupt: (first) => ({
        message: 'Cancelling…',
        cancel: () => core.call('audits.cancel', { auditId: first.id }),
      }),
      ended: (e, first) =>
        e.type === 'status' && e.audit.id === first.id && e.audit.status !== 'running'
          ? e.audit
          : null,
      show: (e, first) => {
        if (e.type !== 'progress' || e.progress.auditId !== first.id || !tty) return
        const p = e.progress
        const what = p.phase === 'scoring' ? 'Scoring images' : 'Finding neighbours'
        process.stderr.write(
          `\r\x1b[2K${what} ${blocks(p.done / Math.max(1, p.of))} ${p.done}/${p.of}  ETA ${formatDuration(p.etaSeconds)}`,
        )
      },
    })
    if (final.status !== 'completed') {
      const message = `Audit ${final.id} ${final.status}${final.error ? `: ${final.error}` : ''}`
      if (json)
        process.stdout.write(JSON.stringify({ error: { code: final.status, message } }) + '\n')
      else process.stderr.write(`${safe(message)}\n`)
      return final.status === 'cancelled' ? 130 : 1
    }
    audit = final
  }
  const { total } = await call(core, 'audits.images', {
    auditId: audit.id,
    includeExcluded: true,
    limit: 1,
  })
  const images = await everyImage(core, audit.id, total)
  if (json) {
    process.stdout.write(JSON.stringify(jsonOf(audit, images)) + '\n')
    return 0
  }
  process.stdout.write(table(audit, images))
  return 0
}

async function everyImage(core: Core, auditId: number, total: number): Promise<AuditImage[]> {
  const out: AuditImage[] = []
  for (let offset = 0; offset < total; offset += 2000)
    out.push(
      ...(
        await call(core, 'audits.images', { auditId, includeExcluded: true, offset, limit: 2000 })
      ).items,
    )
  return out
}

/** The public `--json` shape of an audit: every usable image, most likely mislabelled first. */
export function jsonOf(a: AuditSummary, images: AuditImage[]) {
  return {
    runId: a.runId,
    datasetId: a.datasetId,
    auditId: a.id,
    method: a.method,
    images: images.map((im) => ({
      path: im.path,
      class: im.class,
      anomalyScore: im.anomalyScore,
      suggestedClass: im.suggestedClass,
      labelErrorScore: im.labelErrorScore,
      originalClass: im.originalClass,
      excluded: im.excluded,
      reconstructionError: im.reconstructionError,
    })),
  }
}

function table(a: AuditSummary, images: AuditImage[]): string {
  const lines: string[] = []
  const live = images.filter((im) => !im.excluded)
  lines.push(
    `Audit of ${live.length} images with run ${a.runId} (${a.checkpoint?.kind ?? '?'} checkpoint, epoch ${a.checkpoint?.epoch ?? '?'}).`,
  )
  const suspects = live.filter((im) => im.suggestedClass !== im.class).slice(0, TOP)
  lines.push('', 'Likely label errors (score: best other class minus its own, higher is worse):')
  if (!suspects.length) lines.push('  none: every image looks like its class')
  for (const im of suspects)
    lines.push(
      `  ${im.labelErrorScore.toFixed(2).padStart(5)}  ${safe(im.path)}  ${safe(im.class)} -> ${safe(im.suggestedClass)}`,
    )
  const outliers = [...live].sort((x, y) => y.anomalyScore - x.anomalyScore).slice(0, TOP)
  lines.push('', 'Outliers (anomaly score, higher is more unusual):')
  for (const im of outliers)
    lines.push(`  ${im.anomalyScore.toFixed(1).padStart(6)}  ${safe(im.path)}  (${safe(im.class)})`)
  lines.push(
    '',
    'Fix one with: synthfold relabel <dataset> --path P --class C, or synthfold exclude <dataset> --path P',
  )
  if (a.seconds !== null) lines.push(`Took ${formatDuration(a.seconds)}.`)
  return lines.join('\n') + '\n'
}

/** synthfold relabel <dataset> --path P --class C [--undo] [--json] */
export async function relabelCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['path', 'class'], ['json', 'undo'])
  if (positional.length !== 1) throw new UsageError('relabel needs exactly one dataset')
  const path = flags.get('path')
  if (typeof path !== 'string') throw new UsageError('relabel needs --path P')
  const cls = flags.get('class')
  const undo = flags.has('undo')
  if (!undo && typeof cls !== 'string') throw new UsageError('relabel needs --class C (or --undo)')
  const r = await call(core, 'datasets.relabel', {
    datasetId: await datasetId(core, positional[0]),
    path,
    className: typeof cls === 'string' ? cls : undefined,
    undo,
  })
  return report(flags.has('json'), path, r)
}

/** synthfold exclude <dataset> --path P [--undo] [--json] */
export async function excludeCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['path'], ['json', 'undo'])
  if (positional.length !== 1) throw new UsageError('exclude needs exactly one dataset')
  const path = flags.get('path')
  if (typeof path !== 'string') throw new UsageError('exclude needs --path P')
  const r = await call(core, 'datasets.exclude', {
    datasetId: await datasetId(core, positional[0]),
    path,
    undo: flags.has('undo'),
  })
  return report(flags.has('json'), path, r)
}

function report(
  json: boolean,
  path: string,
  r: Awaited<ReturnType<typeof call<'datasets.relabel'>>>,
): number {
  const o = r.override
  if (json) {
    process.stdout.write(
      JSON.stringify({
        datasetId: r.dataset.id,
        path: o?.path ?? path,
        class: o?.class ?? null,
        originalClass: o?.originalClass ?? null,
        excluded: o?.excluded ?? false,
        classes: r.dataset.classes.map((c) => ({ name: c.name, count: c.count })),
      }) + '\n',
    )
    return 0
  }
  const state = !o
    ? 'as imported (no override)'
    : `${o.excluded ? 'excluded' : 'included'}, class ${safe(o.class)}${o.class !== o.originalClass ? ` (was ${safe(o.originalClass)})` : ''}`
  process.stdout.write(`${safe(path)}: ${state}\n`)
  process.stdout.write(
    `Classes now: ${r.dataset.classes.map((c) => `${safe(c.name)} ${c.count}`).join(', ')}\n`,
  )
  return 0
}
