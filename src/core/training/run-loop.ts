import type { FromTrainer } from '../../shared/ml-protocol'
import { totalEpochs } from '../../shared/train-settings'
import type { Trainer } from './trainer'
import { VqTrainer } from './vq-trainer'

/*
 * One training run's loop: epochs, checkpoints, previews, early stopping, the time budget and
 * cancel, as the ML process and the GPU trainer page both run it (browser-safe). Where a
 * checkpoint or a preview goes is the caller's: the ML process writes files, the page sends its
 * state to main, which writes the same files.
 */

export interface RunLoopSinks {
  /** Progress, epoch metrics and the final `done`; `started` is the caller's. */
  send(m: FromTrainer): void
  /** Writes (or sends) the `kind` checkpoint and reports it; `quick`: see checkpointState. */
  save(kind: 'last' | 'best', best: number | null, quick: boolean): Promise<void>
  /** Writes (or sends) the run page's pictures, then reports `preview`. */
  previews(seed: number): Promise<void>
  /** The finished run's forecast, just before `done` (a failure costs the run nothing). */
  forecast(): Promise<void>
  /** A cancel asked for. */
  stopped(): boolean
  /** How often `last` is written at the latest, in ms (SYNTHFOLD_LAST_CHECKPOINT_SECONDS). */
  lastEvery: number
}

/** Trains `trainer` (fresh or restored, with `best` from its checkpoint) to the end of its run. */
export async function runLoop(
  trainer: Trainer | VqTrainer,
  resumedBest: number | null,
  sink: RunLoopSinks,
): Promise<void> {
  const { send } = sink
  const vq = trainer instanceof VqTrainer ? trainer : null
  const s = trainer.settings
  let best = resumedBest
  // A VQ-VAE's best checkpoint in stage 2 is the best prior: stage 1's best (by reconstruction,
  // with an untrained prior) gives way to the first prior epoch.
  if (vq && vq.epoch === s.epochs) best = null
  // The budget counts wall time over every session of the run: a resumed run has its earlier
  // sessions' seconds from the checkpoint. Settings from before budgets have none (0: no budget).
  const budget = s.timeBudgetSeconds ?? 0
  const epochs = totalEpochs(s)
  const sessionStart = Date.now()
  const trainedBefore = trainer.trainedSeconds
  const clock = (): number =>
    (trainer.trainedSeconds = trainedBefore + (Date.now() - sessionStart) / 1000)
  // Never before a best checkpoint exists: a run stopped in its first epoch would leave nothing
  // to generate from, so a plan whose one epoch is over the budget trains that epoch.
  // A VQ-VAE's budget ends its stage 1 (the prior then trains), and its prior may take half as long
  // again: a run stopped before its prior trained would have nothing to sample from.
  const overBudget = (): boolean =>
    budget > 0 && best !== null && clock() >= (vq && vq.stage === 'prior' ? budget * 1.5 : budget)
  let sinceBest = 0
  let lastSent = 0
  let lastSaved = Date.now()
  const save = async (kind: 'last' | 'best', quick = false): Promise<void> => {
    await sink.save(kind, best, quick)
    if (kind === 'last') lastSaved = Date.now()
  }
  // However long an epoch, a kill loses at most about this much training: `last` is also written
  // at the first batch or epoch boundary after it has passed.
  const due = (): boolean => Date.now() - lastSaved >= sink.lastEvery
  const previewEvery = 3000
  let lastPreview = 0
  let previewCost = 0
  // Stopped by the budget (measured speed was off, or the machine got busy): the best checkpoint
  // stays the best, `last` keeps the steps since, and the run counts as done.
  const budgetStop = async (last: 'saved' | 'quick' | 'full'): Promise<void> => {
    if (last !== 'saved') await save('last', last === 'quick')
    await sink.forecast()
    send({ type: 'done', outcome: 'time-budget', epochs: trainer.epoch })
  }
  /** Ends a VQ-VAE's stage 1 early: the run goes on to train the prior. */
  const toPrior = (): void => {
    vq!.skipToPrior()
    best = null
    sinceBest = 0
  }
  while (trainer.epoch < epochs) {
    if (overBudget()) {
      if (vq?.stage !== 'vq') return budgetStop('saved')
      toPrior()
    }
    const metrics = await trainer.trainEpoch(
      (p) => {
        const now = Date.now()
        if (now - lastSent < 250 && p.batch !== p.batches) return
        lastSent = now
        send({ type: 'progress', ...p })
      },
      () => sink.stopped() || overBudget(),
      async () => {
        if (due()) await save('last', true)
      },
    )
    clock()
    const stop = sink.stopped()
    if (!metrics && !stop && vq?.stage === 'vq') {
      await save('last', true)
      toPrior()
      continue
    }
    if (!metrics && !stop) return budgetStop('quick')
    if (!metrics) {
      // cancelled: the checkpoint keeps the latent prior fitted at the last epoch's end
      await save('last', true)
      return send({ type: 'done', outcome: 'cancelled', epochs: trainer.epoch })
    }
    send({ type: 'epoch', metrics })
    const score = metrics.valLoss ?? metrics.loss
    const improved = best === null || score < best
    if (improved) {
      best = score
      sinceBest = 0
      await save('best')
    } else sinceBest++
    const savedLast =
      trainer.epoch % s.checkpointEvery === 0 ||
      trainer.epoch === epochs ||
      trainer.epoch === s.epochs ||
      due()
    if (savedLast) await save('last')
    let earlyStop =
      s.earlyStoppingPatience > 0 &&
      sinceBest >= s.earlyStoppingPatience &&
      trainer.split.val.length > 0
    if (vq && (earlyStop || vq.epoch === s.epochs) && vq.epoch <= s.epochs) {
      // stage 1 is over (all its epochs, or early stopping): the prior trains next. `last` is
      // written at the prior's start (epoch = stage 1's epochs), so a kill during the prior's first
      // epoch resumes with the prior, not with more of an autoencoder early stopping ended
      const early = vq.epoch < s.epochs
      toPrior()
      if (early) await save('last')
      earlyStop = false
    }
    const budgetOver = trainer.epoch < epochs && overBudget() && vq?.stage !== 'vq'
    // after the checkpoints, so the previews reuse their latent statistics (a cancel that arrives
    // meanwhile is seen at the next epoch's first batch). A small dataset's epochs take a fraction
    // of a second: previews every epoch would cost it a fifth of its training time, so they are
    // written at most every few seconds, and always at the first and the final epoch.
    const ending = trainer.epoch === epochs || earlyStop || budgetOver
    const firstSamples = vq !== null && vq.priorEpochsDone === 1
    // Previews that cost seconds (a VQ-VAE's prior samples its grids code by code) wait at least
    // four times what the last one took, so they never take more than a fifth of the run.
    const wait = Math.max(previewEvery, 4 * previewCost)
    if (trainer.epoch === 1 || ending || firstSamples || Date.now() - lastPreview >= wait) {
      const began = Date.now()
      await sink.previews(s.seed + trainer.epoch)
      lastPreview = Date.now()
      previewCost = lastPreview - began
    }
    if (earlyStop) {
      if (!savedLast) await save('last')
      await sink.forecast()
      return send({ type: 'done', outcome: 'early-stopped', epochs: trainer.epoch })
    }
    if (budgetOver) return budgetStop(savedLast ? 'saved' : 'full')
  }
  await sink.forecast()
  send({ type: 'done', outcome: 'completed', epochs: trainer.epoch })
}
