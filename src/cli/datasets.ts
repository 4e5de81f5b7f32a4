import type { Core } from '../core/core'
import type { ImportSummary, JobEvent } from '../shared/types'
import { formatRatio } from '../shared/format'
import { call, parse, UsageError } from './args'
import { onInterrupt } from './follow'
import { renderBar } from './progress-bar'
import { safe } from './terminal'

export async function importCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['name', 'size', 'channels', 'fit'], ['json'])
  if (positional.length !== 1) throw new UsageError('import needs exactly one folder')
  const json = flags.has('json')
  const size = flags.get('size')
  if (size !== undefined && !/^\d+$/.test(String(size)))
    throw new UsageError('--size must be a whole number of pixels (28 to 128)')
  const args = {
    path: positional[0],
    name: flags.get('name'),
    size: size === undefined ? undefined : Number(size),
    channels: flags.get('channels'),
    fit: flags.get('fit'),
  }
  const tty = process.stderr.isTTY && !json
  const { jobId } = await call(core, 'datasets.import', args)
  const undo = onInterrupt(() => {
    process.stderr.write('\nCancelling… (the images imported so far are kept)\n')
    void core.call('jobs.cancel', { jobId })
  })
  const outcome = await new Promise<JobEvent>((resolve) => {
    const off = core.on('job', (e) => {
      if (e.type === 'progress') {
        if (tty && e.progress.jobId === jobId)
          process.stderr.write(`\r\x1b[2K${renderBar(e.progress)}`)
        return
      }
      if (e.jobId !== jobId) return
      off()
      resolve(e)
    })
  }).finally(undo)
  if (tty) process.stderr.write('\r\x1b[2K')
  if (outcome.type === 'failed')
    throw Object.assign(new Error(outcome.error.message), { code: outcome.error.code })
  const summary = outcome.type === 'progress' ? null : outcome.result
  if (!summary) throw new Error('The import stopped before it could report.')
  if (json) process.stdout.write(JSON.stringify(summary) + '\n')
  else printSummary(summary)
  return outcome.type === 'cancelled' ? 130 : 0
}

function printSummary(s: ImportSummary): void {
  const out = process.stdout
  out.write(
    `${s.cancelled ? 'Import cancelled' : 'Imported'}: dataset ${s.datasetId} "${safe(s.name)}" (${safe(s.root)})\n`,
  )
  out.write(
    `  ${s.imported} images in ${s.classes.length} classes at ${s.size}x${s.size} ${s.channels}, ${s.seconds.toFixed(1)} s\n`,
  )
  out.write(
    `  added ${s.added}, changed ${s.changed}, removed ${s.removed}, unchanged ${s.unchanged}, ignored non-image files ${s.ignored}\n`,
  )
  const names = s.classes.map((c) => safe(c.name))
  const width = Math.max(...names.map((n) => n.length), 5)
  s.classes.forEach((c, i) =>
    out.write(`  ${names[i].padEnd(width)}  ${String(c.count).padStart(7)}\n`),
  )
  if (s.skipped.length) {
    out.write(`  Skipped ${s.skipped.length} file(s):\n`)
    for (const f of s.skipped.slice(0, 50)) out.write(`    ${safe(f.path)}: ${safe(f.reason)}\n`)
    if (s.skipped.length > 50)
      out.write(`    … and ${s.skipped.length - 50} more (use --json for all)\n`)
  }
}

export async function datasetsCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, [], ['json'])
  if (positional.length) throw new UsageError('datasets takes no arguments')
  const list = await call(core, 'datasets.list', {})
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify({ datasets: list }) + '\n')
    return 0
  }
  if (!list.length) {
    process.stdout.write('No datasets yet. Import one with: synthfold import <folder>\n')
    return 0
  }
  for (const d of list) {
    const ratio = formatRatio(d.imbalanceRatio)
    process.stdout.write(
      `${String(d.id).padStart(4)}  ${safe(d.name)}  ${d.imageCount} images, ${d.classCount} classes, imbalance ${ratio}, ${d.size}px ${d.channels}, ${d.status}` +
        `${d.skippedCount ? `, ${d.skippedCount} skipped` : ''}\n    ${safe(d.root)}\n`,
    )
  }
  return 0
}
