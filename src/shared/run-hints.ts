import type { EpochMetrics, RunSummary } from './runs'

export interface Hint {
  level: 'ok' | 'info' | 'warn' | 'error'
  title: string
  detail: string
}

/**
 * Plain-language health of a run, from its metrics: what a person without a KL term in mind needs
 * to know. Most important first.
 */
export function runHints(run: RunSummary, epochs: EpochMetrics[]): Hint[] {
  const hints: Hint[] = []
  const s = run.settings
  if (run.status === 'diverged') {
    hints.push({
      level: 'error',
      title: 'Training blew up',
      detail: `The loss stopped being a number, so the run was stopped. Start again with a lower learning rate (now ${s.learningRate}) or stronger gradient clipping.`,
    })
  } else if (run.status === 'failed') {
    hints.push({
      level: 'error',
      title: 'The run stopped with an error',
      detail: run.error ?? 'Unknown error.',
    })
  } else if (run.status === 'interrupted') {
    hints.push({
      level: 'warn',
      title: 'Interrupted',
      detail:
        'The app or computer stopped during this run. Resume it to continue from its last checkpoint.',
    })
  }
  const last = epochs[epochs.length - 1]
  if (!last) return hints
  const pastWarmup = last.epoch + 1 > Math.max(2, s.klWarmupEpochs)
  if (pastWarmup && last.activeUnits <= Math.max(1, Math.floor(s.latentDim * 0.1))) {
    hints.push({
      level: 'warn',
      title: 'The model is ignoring most of its latent space',
      detail: `Only ${last.activeUnits} of ${s.latentDim} latent units carry information (posterior collapse): samples will look alike. Try a lower beta, more free bits or a longer KL warm-up.`,
    })
  }
  const vals = epochs.map((e) => e.valLoss).filter((v): v is number => v !== null)
  if (vals.length >= 4) {
    const best = Math.min(...vals)
    const bestAt = vals.lastIndexOf(best)
    const since = vals.length - 1 - bestAt
    const trainFalling =
      epochs.length >= 2 &&
      epochs[epochs.length - 1].loss < epochs[Math.max(0, epochs.length - 1 - since)].loss
    if (since >= 3 && vals[vals.length - 1] > best * 1.005 && trainFalling) {
      hints.push({
        level: 'warn',
        title: 'Overfitting',
        detail: `The validation loss has not improved for ${since} epochs while the training loss still falls: the model is starting to memorise. The best checkpoint (epoch ${bestAt + 1}) is kept and used for generation.`,
      })
    }
    const recent = vals.slice(-3)
    const improving = recent[0] - recent[recent.length - 1] > Math.abs(recent[0]) * 0.005
    if (run.status === 'completed' && improving && run.epochsDone >= s.epochs) {
      hints.push({
        level: 'info',
        title: 'Still improving',
        detail:
          'The validation loss was still falling at the end. A run with more epochs would likely do better.',
      })
    }
  }
  if (hints.length === 0) {
    hints.push({
      level: 'ok',
      title: run.status === 'running' ? 'Training looks healthy' : 'Healthy run',
      detail: `${last.activeUnits} of ${s.latentDim} latent units in use; losses are moving as they should.`,
    })
  }
  return hints
}
