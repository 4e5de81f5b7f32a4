import type { EpochMetrics, RunSummary } from './runs'
import { totalEpochs, vqSettings } from './train-settings'
import {
  CLASSIFIER_WARN_BELOW,
  forecastShare,
  percent,
  WEAK_CLASS_BAR,
  weakClasses,
  worstHeldOutClasses,
  type RunForecast,
} from './forecast'

export interface Hint {
  level: 'ok' | 'info' | 'warn' | 'error'
  title: string
  detail: string
}

/**
 * Plain-language health of a run, from its metrics: what a person without a KL term in mind needs
 * to know. Most important first.
 */
export function runHints(run: RunSummary, allEpochs: EpochMetrics[]): Hint[] {
  const hints: Hint[] = []
  const s = run.settings
  const vq = s.model === 'vqvae'
  // A VQ-VAE's two stages have losses of different kinds (nats per image, then per code): the
  // checks on the loss curve read the current stage's epochs only.
  const stageNow = allEpochs[allEpochs.length - 1]?.stage
  const epochs = vq ? allEpochs.filter((e) => e.stage === stageNow) : allEpochs
  const lastVq = vq ? [...allEpochs].reverse().find((e) => e.stage === 'vq') : undefined
  const codes = vq ? vqSettings(s).codebookSize : 0
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
  if (
    vq &&
    lastVq &&
    lastVq.epoch >= 2 &&
    (lastVq.usedCodes ?? codes) <= Math.max(1, Math.floor(codes * 0.1))
  ) {
    hints.push({
      level: 'warn',
      title: 'The codebook has collapsed',
      detail: `Only ${lastVq.usedCodes} of ${codes} codes are in use (codebook collapse, the VQ form of posterior collapse): reconstructions and samples lose detail. Unused codes are restarted; try a smaller codebook or a lower commitment weight.`,
    })
  } else if (!vq && pastWarmup && last.activeUnits <= Math.max(1, Math.floor(s.latentDim * 0.1))) {
    hints.push({
      level: 'warn',
      title: 'The model is ignoring most of its latent space',
      detail: `Only ${last.activeUnits} of ${s.latentDim} latent units carry information (posterior collapse): samples will look alike. ${s.model === 'wae' ? 'Try a lower MMD weight (lambda) or a larger latent size.' : 'Try a lower beta, more free bits or a longer KL warm-up.'}`,
    })
  }
  const withVal = epochs.filter((e) => e.valLoss !== null)
  const vals = withVal.map((e) => e.valLoss as number)
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
        detail: `The validation loss has not improved for ${since} epochs while the training loss still falls: the model is starting to memorise. The best checkpoint (epoch ${withVal[bestAt].epoch + 1}) is kept and used for generation.`,
      })
    }
    const recent = vals.slice(-3)
    const improving = recent[0] - recent[recent.length - 1] > Math.abs(recent[0]) * 0.005
    if (run.status === 'completed' && improving && run.epochsDone >= totalEpochs(s)) {
      hints.push({
        level: 'info',
        title: 'Still improving',
        detail:
          'The validation loss was still falling at the end. A run with more epochs would likely do better.',
      })
    }
  }
  const f = run.forecast ?? null
  const verdict = f ? forecastHints(run, f) : { warnings: [], summary: null }
  hints.push(...verdict.warnings)
  if (hints.length === 0) {
    hints.push({
      level: 'ok',
      title: run.status === 'running' ? 'Training looks healthy' : 'Healthy run',
      detail: `${
        vq && lastVq
          ? `${lastVq.usedCodes} of ${codes} codes in use (perplexity ${(lastVq.perplexity ?? 0).toFixed(1)})`
          : `${last.activeUnits} of ${s.latentDim} latent units in use`
      }; losses are moving as they should.${verdict.summary ? ` ${verdict.summary}` : ''}`,
    })
  } else if (verdict.summary) {
    hints.push({ level: 'ok', title: 'Every class should fill', detail: verdict.summary })
  }
  return hints
}

/**
 * What the run's forecast says about generating from it: a warning per problem (classes that will
 * not fill, a classifier that misses many held-out images), or, with none, a one-line summary.
 */
function forecastHints(
  run: RunSummary,
  f: RunForecast,
): { warnings: Hint[]; summary: string | null } {
  const names = run.classNames
  const warnings: Hint[] = []
  const weak = weakClasses(f)
  if (weak.length) {
    const listed = weak.map((w) => `${names[w.classIndex]} ${percent(w.share)}`).join(', ')
    warnings.push({
      level: 'warn',
      title: `The generator has not learned ${weak.length === 1 ? names[weak[0].classIndex] : `${weak.length} classes`} well enough`,
      detail: `Of ${f.classes[0]?.tried ?? 0} test samples per class, too few pass the filters and look like their class: ${listed}, where a class needs about ${percent(WEAK_CLASS_BAR)} to fill its plan. A generation will likely fall short there: train longer, add real images, or see classic augmentation for ${weak.length === 1 ? 'this class' : 'these classes'}.`,
    })
  }
  const acc = f.classifierAccuracy
  const worst = worstHeldOutClasses(f)
  const worstText = worst
    .map((w) => `${names[w.classIndex]} ${percent(w.accuracy)} of ${w.heldOut}`)
    .join(', ')
  if (acc !== null && acc < CLASSIFIER_WARN_BELOW) {
    const who = worst.length ? worst.map((w) => names[w.classIndex]).join(', ') : 'several classes'
    warnings.push({
      level: 'warn',
      title: `Classifier ${percent(acc)} on held-out images`,
      detail: `The run's classifier put ${percent(acc)} of ${f.heldOut} held-out real images in their class${worst.length ? ` (worst: ${worstText})` : ''}. Generation will reject many samples of ${who}, and accept some that do not look like their class: review those closely, or train longer.`,
    })
  }
  if (warnings.length) return { warnings, summary: null }
  const lowest = f.classes
    .map((c, i) => ({ i, share: forecastShare(c) }))
    .sort((a, b) => a.share - b.share)[0]
  const parts = [
    acc === null
      ? 'No held-out images to measure the classifier on'
      : `Classifier ${percent(acc)} on ${f.heldOut} held-out images${worst.length ? ` (lowest: ${worstText})` : ''}`,
    lowest
      ? `forecast: every class should fill its plan (lowest ${names[lowest.i]}, ${percent(lowest.share)} of test samples pass)`
      : 'no forecast',
  ]
  return { warnings: [], summary: `${parts.join('; ')}.` }
}
