import { trainingImages } from '../shared/held-out'
import { resolve } from 'node:path'
import type { Core } from '../core/core'
import { formatDuration } from '../shared/format'
import type { RunEvent, RunSummary } from '../shared/runs'
import {
  divergenceName,
  modelFamily,
  planTraining,
  type TrainingPlan,
  type TrainSettings,
} from '../shared/train-settings'
import { channelCount } from '../shared/types'
import { call, numberFlag, parse, UsageError } from './args'
import { followJob } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'

/** Resolves a dataset given by id or by name. */
export async function datasetId(core: Core, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref)
  const list = await call(core, 'datasets.list', {})
  const found = list.filter((d) => d.name === ref)
  if (found.length === 1) return found[0].id
  throw new UsageError(
    found.length
      ? `Several datasets are named "${ref}"; use its id.`
      : `No dataset named "${ref}" (see synthfold datasets).`,
  )
}

function runId(ref: string | undefined): number {
  if (!ref || !/^\d+$/.test(ref)) throw new UsageError('give the run id (a number)')
  return Number(ref)
}

function bar(p: Extract<RunEvent, { type: 'progress' }>['progress']): string {
  const frac = (p.epoch + p.batch / p.batches) / p.epochs
  const stage =
    p.stage === 'vq' ? 'stage 1 (VQ-VAE) ' : p.stage === 'prior' ? 'stage 2 (prior) ' : ''
  return `${stage}Epoch ${p.epoch + 1}/${p.epochs} ${blocks(frac)} batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(1)}  ${Math.round(p.imagesPerSecond)} img/s  ETA ${formatDuration(p.etaSeconds)}`
}

/** Follows a run until it stops, drawing progress on a terminal; Ctrl-C cancels it. */
async function follow(
  core: Core,
  start: () => Promise<RunSummary>,
  json: boolean,
): Promise<number> {
  const tty = process.stderr.isTTY && !json
  const final = await followJob({
    core,
    channel: 'run',
    start,
    tty,
    started: (first) => {
      if (!json) process.stderr.write(`Run ${first.id} on dataset ${first.datasetId}\n`)
    },
    interrupt: (first) => ({
      message: `Cancelling… (a checkpoint is saved; resume with synthfold resume ${first.id})`,
      cancel: () => core.call('runs.cancel', { runId: first.id }),
    }),
    ended: (e, first) =>
      e.type === 'status' && e.run.id === first.id && e.run.status !== 'running' ? e.run : null,
    show: (e, first) => {
      if (e.type === 'progress' && e.progress.runId === first.id) {
        if (tty) process.stderr.write(`\r\x1b[2K${bar(e.progress)}`)
      } else if (e.type === 'epoch' && e.runId === first.id && !json) {
        const m = e.metrics
        if (tty) process.stderr.write('\r\x1b[2K')
        if (m.stage) {
          // a VQ-VAE's epochs: the codebook's use in stage 1, the prior's loss in stage 2
          process.stderr.write(
            m.stage === 'vq'
              ? `epoch ${m.epoch + 1} (VQ-VAE): loss ${m.loss.toFixed(2)} (rec ${m.reconstruction.toFixed(2)}, commitment ${m.kl.toFixed(2)})` +
                  `${m.valLoss !== null ? `  val ${m.valLoss.toFixed(2)}` : ''}  codes used ${m.usedCodes}  perplexity ${(m.perplexity ?? 0).toFixed(1)}  ${Math.round(m.imagesPerSecond)} img/s\n`
              : `epoch ${m.epoch + 1} (prior): ${m.loss.toFixed(3)} nats/code` +
                  `${m.valLoss !== null ? `  val ${m.valLoss.toFixed(3)}` : ''}  ${Math.round(m.imagesPerSecond)} img/s\n`,
          )
          return
        }
        process.stderr.write(
          `epoch ${m.epoch + 1}: loss ${m.loss.toFixed(2)} (rec ${m.reconstruction.toFixed(2)}, ${divergenceName(first.settings)} ${m.kl.toFixed(m.kl < 1 ? 4 : 2)})` +
            `${m.valLoss !== null ? `  val ${m.valLoss.toFixed(2)}` : ''}  active units ${m.activeUnits}  ${Math.round(m.imagesPerSecond)} img/s\n`,
        )
      }
    },
  })
  if (json) {
    process.stdout.write(
      JSON.stringify({
        runId: final.id,
        datasetId: final.datasetId,
        status: final.status,
        model: modelFamily(final.settings),
        epochs: final.epochsDone,
        backend: final.backend,
        device: final.device,
        settings: final.settings,
        metrics: final.lastMetrics,
        error: final.error,
      }) + '\n',
    )
  } else {
    process.stdout.write(
      `Run ${final.id}: ${final.status} after ${final.epochsDone} epoch(s) on ${final.backend} (${safe(final.device)})\n`,
    )
    if (final.error) process.stdout.write(`  ${safe(final.error)}\n`)
  }
  return final.status === 'completed' ? 0 : final.status === 'cancelled' ? 130 : 1
}

/**
 * Prints why the run gets its epochs, width and schedule, as the training panel shows it: the same
 * plan (src/shared/train-settings.ts) at the speed measured here, which the run then reuses.
 */
async function explain(core: Core, id: number, settings: Partial<TrainSettings>): Promise<void> {
  const ds = await call(core, 'datasets.get', { id })
  let imagesPerSecond: number | null = null
  if (settings.epochs === undefined) {
    process.stderr.write('Measuring training speed here…\n')
    const r = await core.call('runs.estimate', { datasetId: id })
    if (r.ok) imagesPerSecond = r.value.imagesPerSecond[settings.preset ?? 'balanced']
  }
  let plan: TrainingPlan
  try {
    plan = planTraining(settings, {
      size: ds.size,
      channels: channelCount(ds.channels),
      // what the run trains on: the evaluation split stays out
      imageCount: trainingImages(ds.classes),
      imagesPerSecond,
    })
  } catch {
    return // the start refuses it with the setting's own message
  }
  process.stderr.write('Why these settings:\n')
  for (const r of plan.reasons) process.stderr.write(`  - ${safe(r)}\n`)
}

export async function trainCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    [
      'preset',
      'model',
      'epochs',
      'latent',
      'beta',
      'wae-lambda',
      'wae-encoder',
      'seed',
      'batch-size',
      'lr',
      'time-budget',
      'backend',
      'codebook-size',
      'code-dim',
      'commitment',
      'prior-epochs',
    ],
    ['json', 'no-ema'],
  )
  if (positional.length !== 1) throw new UsageError('train needs exactly one dataset')
  const id = await datasetId(core, positional[0])
  const settings: Partial<TrainSettings> = {
    preset: flags.get('preset') as TrainSettings['preset'] | undefined,
    model: flags.get('model') as TrainSettings['model'],
    waeLambda: numberFlag(flags, 'wae-lambda'),
    waeEncoder: flags.get('wae-encoder') as TrainSettings['waeEncoder'],
    epochs: numberFlag(flags, 'epochs'),
    latentDim: numberFlag(flags, 'latent'),
    beta: numberFlag(flags, 'beta'),
    seed: numberFlag(flags, 'seed'),
    batchSize: numberFlag(flags, 'batch-size'),
    learningRate: numberFlag(flags, 'lr'),
    timeBudgetSeconds: numberFlag(flags, 'time-budget'),
    vqCodebookSize: numberFlag(flags, 'codebook-size'),
    vqCodeDim: numberFlag(flags, 'code-dim'),
    vqCommitment: numberFlag(flags, 'commitment'),
    priorEpochs: numberFlag(flags, 'prior-epochs'),
    vqEma: flags.has('no-ema') ? false : undefined,
  }
  const clean = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined))
  const backend = flags.get('backend') as 'auto' | undefined
  if (!flags.has('json')) await explain(core, id, clean)
  return follow(
    core,
    () => call(core, 'runs.start', { datasetId: id, settings: clean, backend }),
    flags.has('json'),
  )
}

export async function resumeCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['backend'], ['json'])
  const id = runId(positional[0])
  return follow(
    core,
    () =>
      call(core, 'runs.resume', { runId: id, backend: flags.get('backend') as 'auto' | undefined }),
    flags.has('json'),
  )
}

export async function sampleCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    ['class', 'n', 'out', 'temperature', 'seed', 'checkpoint'],
    ['json'],
  )
  const id = runId(positional[0])
  const cls = flags.get('class')
  const out = flags.get('out')
  if (typeof cls !== 'string' || typeof out !== 'string' || !flags.has('n'))
    throw new UsageError('sample needs --class, --n and --out')
  // relative to the shell's folder, as a CLI user means it (the API refuses relative paths)
  const outDir = resolve(out)
  const r = await call(core, 'runs.sample', {
    runId: id,
    class: /^\d+$/.test(cls) ? Number(cls) : cls,
    n: numberFlag(flags, 'n')!,
    outDir,
    temperature: numberFlag(flags, 'temperature'),
    seed: numberFlag(flags, 'seed'),
    checkpoint: flags.get('checkpoint') as 'best' | undefined,
  })
  if (flags.has('json'))
    process.stdout.write(
      JSON.stringify({
        runId: id,
        classIndex: r.classIndex,
        checkpoint: r.checkpoint,
        files: r.files,
      }) + '\n',
    )
  else
    process.stdout.write(
      `Wrote ${r.files.length} image(s) from run ${id} (${r.checkpoint.kind} checkpoint, epoch ${r.checkpoint.epoch}) to ${safe(outDir)}\n`,
    )
  return 0
}

export async function doctorCommand(core: Core, argv: string[]): Promise<number> {
  const { flags } = parse(argv, ['backend'], ['json'])
  const r = await call(core, 'system.doctor', {
    backend: flags.get('backend') as 'auto' | undefined,
  })
  if (flags.has('json')) process.stdout.write(JSON.stringify(r) + '\n')
  else {
    process.stdout.write(
      `Backend: ${r.backend}\nDevice:  ${safe(r.device)}\nThreads: ${r.threads}${r.simd ? ', SIMD' : ''}\nNode:    ${r.node} (${r.platform})\n`,
    )
    for (const n of r.notes) process.stdout.write(`  - ${safe(n)}\n`)
  }
  return 0
}
