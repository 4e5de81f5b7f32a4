import type { Core } from '../core/core'
import { formatDuration } from '../shared/format'
import { ARM_LABELS, type EvaluationSummary } from '../shared/evaluation'
import { call, numberFlag, parse, UsageError } from './args'
import { followJob } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'

/**
 * synthfold evaluate <generation> [--seeds N] [--epochs N] [--json]: the downstream check. Trains
 * the same small classifier in every arm (real only, class weights, logit adjustment, with the
 * accepted synthetic images, ...) and scores each on the dataset's evaluation split.
 */
export async function evaluateCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(argv, ['seeds', 'epochs'], ['json'])
  const json = flags.has('json')
  if (positional.length !== 1 || !/^\d+$/.test(positional[0]))
    throw new UsageError('evaluate needs the generation id (a number)')
  const generationId = Number(positional[0])
  const tty = process.stderr.isTTY && !json
  if (!json) process.stderr.write(`Evaluating generation ${generationId}\n`)
  const final = await followJob({
    core,
    channel: 'evaluation',
    tty,
    start: () =>
      call(core, 'evaluations.start', {
        generationId,
        seeds: numberFlag(flags, 'seeds'),
        epochs: numberFlag(flags, 'epochs'),
      }),
    interrupt: (first) => ({
      message: 'Cancelling… (finished arms are kept)',
      cancel: () => core.call('evaluations.cancel', { evaluationId: first.id }),
    }),
    ended: (e, first) =>
      e.type === 'status' && e.evaluation.id === first.id && e.evaluation.status !== 'running'
        ? e.evaluation
        : null,
    show: (e, first) => {
      if (e.type !== 'progress' || e.progress.evaluationId !== first.id || !tty) return
      const p = e.progress
      process.stderr.write(
        `\r\x1b[2KTraining classifiers ${blocks(p.done / Math.max(1, p.of))} ${p.done}/${p.of}  ETA ${formatDuration(p.etaSeconds)}`,
      )
    },
  })
  if (json) {
    process.stdout.write(JSON.stringify(jsonOf(final)) + '\n')
  } else {
    process.stdout.write(table(final))
  }
  return final.status === 'completed' ? 0 : final.status === 'cancelled' ? 130 : 1
}

/** The public `--json` shape of an evaluation. */
export function jsonOf(e: EvaluationSummary) {
  return {
    evaluationId: e.id,
    generationId: e.generationId,
    datasetId: e.datasetId,
    status: e.status,
    heldOut: e.heldOut,
    arms: e.arms.map((a) => ({
      name: a.name,
      balancedAccuracy: a.balancedAccuracy,
      macroF1: a.macroF1,
      perClassRecall: a.perClassRecall,
      seeds: a.seeds,
      spread: a.spread,
    })),
    best: e.best,
    verdict: e.verdict,
    seconds: e.seconds,
    syntheticImages: e.syntheticImages,
    runExcludedHeldOut: e.runExcludedHeldOut,
    error: e.error,
  }
}

function table(e: EvaluationSummary): string {
  const lines: string[] = []
  if (e.status !== 'completed')
    lines.push(`Evaluation ${e.id} ${e.status}${e.error ? `: ${safe(e.error)}` : ''}`)
  const held = e.heldOut.reduce((a, c) => a + c.count, 0)
  lines.push(
    `Scored on ${held} held-out real images; ${e.syntheticImages ?? 0} accepted synthetic images; ${e.seeds} seeds.`,
  )
  const w = Math.max(...e.arms.map((a) => ARM_LABELS[a.name].length), 3)
  lines.push(`${'arm'.padEnd(w)}  balanced accuracy  macro-F1`)
  for (const a of e.arms)
    lines.push(
      `${ARM_LABELS[a.name].padEnd(w)}  ${`${(a.balancedAccuracy * 100).toFixed(1)}% ± ${(a.spread * 100).toFixed(1)}`.padStart(17)}  ${`${(a.macroF1 * 100).toFixed(1)}%`.padStart(8)}${a.name === e.best ? '  best' : ''}`,
    )
  if (e.verdict) lines.push(e.verdict)
  if (!e.runExcludedHeldOut)
    lines.push(
      'Note: this run trained before the evaluation split existed, so its generator saw the held-out images.',
    )
  if (e.seconds !== null) lines.push(`Took ${formatDuration(e.seconds)}.`)
  return lines.join('\n') + '\n'
}
