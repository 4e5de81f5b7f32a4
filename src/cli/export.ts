import { join, resolve } from 'node:path'
import type { Core } from '../core/core'
import { formatDuration } from '../shared/format'
import type { ExportInclude, ExportSummary } from '../shared/export'
import { call, numberFlag, parse, UsageError } from './args'
import { followJob } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'
import { datasetId } from './train'

function parseSplits(v: string | true | undefined): [number, number, number] | null {
  if (v === undefined) return null
  const parts = typeof v === 'string' ? v.split(',').map(Number) : []
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p)))
    throw new UsageError('--splits needs three fractions, e.g. --splits 0.8,0.1,0.1')
  return parts as [number, number, number]
}

/**
 * synthfold export <dataset> --out DIR [--splits 0.8,0.1,0.1] [--include accepted|real|synthetic]
 * [--zip] [--merge] [--seed S] [--generation ID,...] [--upscale PX] [--real-images match|as-is]
 * [--metadata csv|jsonl] [--class-weights] [--resume ID | --cleanup ID] [--json]
 */
export async function exportCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    [
      'out',
      'splits',
      'include',
      'seed',
      'generation',
      'upscale',
      'upscale-method',
      'real-images',
      'metadata',
      'resume',
      'cleanup',
    ],
    ['zip', 'merge', 'json', 'class-weights'],
  )
  const json = flags.has('json')
  const cleanupId = numberFlag(flags, 'cleanup')
  if (cleanupId !== undefined) {
    const r = await call(core, 'exports.cleanup', { exportId: cleanupId })
    process.stdout.write(
      json
        ? JSON.stringify({ exportId: cleanupId, removedFiles: r.removedFiles }) + '\n'
        : `Export ${cleanupId} cleaned up: removed ${r.removedFiles} file(s) it had written.\n`,
    )
    return 0
  }
  const resumeId = numberFlag(flags, 'resume')
  let start: () => Promise<ExportSummary>
  if (resumeId !== undefined) start = () => call(core, 'exports.resume', { exportId: resumeId })
  else {
    if (positional.length !== 1) throw new UsageError('export needs exactly one dataset')
    const out = flags.get('out')
    if (typeof out !== 'string') throw new UsageError('export needs --out DIR')
    const generation = flags.get('generation')
    const upscale = numberFlag(flags, 'upscale')
    const args = {
      datasetId: await datasetId(core, positional[0]),
      // relative to the shell's folder, as a CLI user means it (the API refuses relative paths)
      out: resolve(out),
      include: (flags.get('include') as ExportInclude | undefined) ?? 'accepted',
      splits: parseSplits(flags.get('splits')),
      seed: numberFlag(flags, 'seed'),
      zip: flags.has('zip'),
      merge: flags.has('merge'),
      generationIds:
        typeof generation === 'string' ? generation.split(',').map((g) => Number(g)) : null,
      upscale:
        upscale === undefined
          ? null
          : {
              size: upscale,
              method: (flags.get('upscale-method') as 'nearest' | undefined) ?? 'lanczos3',
            },
      realImages: flags.get('real-images') as 'as-is' | undefined,
      metadata: flags.get('metadata') as 'jsonl' | undefined,
      classWeights: flags.has('class-weights'),
    }
    start = () => call(core, 'exports.start', args)
  }
  const tty = process.stderr.isTTY && !json
  const final = await followJob({
    core,
    channel: 'export',
    tty,
    start,
    interrupt: (first) => ({
      message: `Cancelling… (resume with synthfold export --resume ${first.id}, or remove what was written with --cleanup ${first.id})`,
      cancel: () => core.call('exports.cancel', { exportId: first.id }),
    }),
    alreadyOver: (first) => first.status !== 'running',
    ended: (e, first) =>
      e.type === 'status' && e.export.id === first.id && e.export.status !== 'running'
        ? e.export
        : null,
    show: (e, first) => {
      if (e.type !== 'progress' || e.progress.exportId !== first.id || !tty) return
      const p = e.progress
      process.stderr.write(
        `\r\x1b[2K${p.phase === 'zipping' ? 'Zipping' : 'Exporting'} ${blocks(p.done / Math.max(1, p.total))} ${p.done}/${p.total}  ${Math.round(p.rate)} files/s  ETA ${formatDuration(p.etaSeconds)}`,
      )
    },
  })
  const real = final.classes.reduce((a, c) => a + c.real, 0)
  const synthetic = final.classes.reduce((a, c) => a + c.synthetic, 0)
  if (json)
    process.stdout.write(
      JSON.stringify({
        exportId: final.id,
        datasetId: final.datasetId,
        status: final.status,
        out: final.options.out,
        include: final.options.include,
        splits: final.options.splits,
        files: final.files,
        bytes: final.bytes,
        real,
        synthetic,
        classes: final.classes,
        zip: final.zipPath,
        // the root's metadata file, or the train split's with splits
        manifest: join(final.options.out, manifestPath(final.options)),
        report: `${final.options.out}/report.html`,
        error: final.error,
      }) + '\n',
    )
  else if (final.status === 'completed') {
    process.stdout.write(
      `Exported ${final.files} images (${real} real, ${synthetic} synthetic) to ${safe(final.options.out)}\n` +
        `  manifest: ${manifestPath(final.options)}${final.options.splits ? ' (one per split folder)' : ''} · report: report.html${final.zipPath ? `\n  zip: ${safe(final.zipPath)}` : ''}\n`,
    )
  } else process.stdout.write(`Export ${final.id}: ${final.status}. ${safe(final.error ?? '')}\n`)
  return final.status === 'completed' ? 0 : final.status === 'cancelled' ? 130 : 1
}

function manifestPath(o: ExportSummary['options']): string {
  const name = `metadata.${o.metadata === 'jsonl' ? 'jsonl' : 'csv'}`
  return o.splits ? `train/${name}` : name
}

/** synthfold export-generator <run> --out DIR [--checkpoint best|last] [--json] */
export async function exportGeneratorCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['out', 'checkpoint'], ['json'])
  if (positional.length !== 1 || !/^\d+$/.test(positional[0]))
    throw new UsageError('export-generator needs the run id (a number)')
  const out = flags.get('out')
  if (typeof out !== 'string') throw new UsageError('export-generator needs --out DIR')
  const r = await call(core, 'runs.exportGenerator', {
    runId: Number(positional[0]),
    out: resolve(out),
    checkpoint: flags.get('checkpoint') as 'best' | undefined,
  })
  process.stdout.write(
    flags.has('json')
      ? JSON.stringify({ runId: Number(positional[0]), ...r }) + '\n'
      : `Wrote the generator of run ${positional[0]} (${r.checkpoint.kind} checkpoint, epoch ${r.checkpoint.epoch}):\n${r.files.map((f) => `  ${safe(f)}`).join('\n')}\n`,
  )
  return 0
}
