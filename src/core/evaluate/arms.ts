import {
  ARM_NAMES,
  balancedAccuracy,
  confusion,
  inverseFrequencyWeights,
  logitAdjustment,
  macroF1,
  mean,
  perClassRecall,
  standardDeviation,
  type ArmName,
  type ArmResult,
} from '../../shared/evaluation'
import {
  downstreamSteps,
  predictClasses,
  trainDownstream,
  type ImageShape,
  type LabeledImages,
} from './downstream'

export interface ArmsInput {
  /** Real training images (never the held-out ones). */
  real: LabeledImages
  /** Accepted synthetic images. */
  synthetic: LabeledImages
  /** Held-out real images: what every arm is scored on. */
  test: LabeledImages
  classNames: string[]
  /** Image geometry; `classes` must equal classNames.length. */
  shape: ImageShape
  seeds: number
  /** Passes over the real images (see downstreamSteps). */
  epochs?: number
  /** Optimiser steps per classifier, instead of those `epochs` give. */
  steps?: number
  arms?: readonly ArmName[]
  onProgress?: (p: { arm: ArmName; seed: number; done: number; of: number }) => void
  /** Called with every arm finished so far, after each arm. */
  onArm?: (arms: ArmResult[]) => void
  shouldStop?: () => boolean
}

const countsOf = (labels: number[], classes: number): number[] => {
  const n = new Array<number>(classes).fill(0)
  for (const l of labels) n[l]++
  return n
}

/** The training set and loss of one arm. */
export function armTraining(
  arm: ArmName,
  real: LabeledImages,
  synthetic: LabeledImages,
  classes: number,
): { train: LabeledImages; adjust?: number[] } {
  const realCounts = countsOf(real.labels, classes)
  const plus = (keep: (label: number) => boolean, weight: number): LabeledImages => {
    const kept = synthetic.labels.map((l, i) => i).filter((i) => keep(synthetic.labels[i]))
    return {
      images: [...real.images, ...kept.map((i) => synthetic.images[i])],
      labels: [...real.labels, ...kept.map((i) => synthetic.labels[i])],
      weights: [...real.labels.map(() => 1), ...kept.map(() => weight)],
    }
  }
  switch (arm) {
    case 'real':
      return { train: real }
    case 'class-weights': {
      const w = inverseFrequencyWeights(realCounts)
      return { train: { ...real, weights: real.labels.map((l) => w[l]) } }
    }
    case 'logit-adjusted':
      return { train: real, adjust: logitAdjustment(realCounts) }
    case 'synthetic':
      return { train: plus(() => true, 1) }
    case 'synthetic+logit-adjusted': {
      const train = plus(() => true, 1)
      return { train, adjust: logitAdjustment(countsOf(train.labels, classes)) }
    }
    case 'synthetic-half-weight':
      return { train: plus(() => true, 0.5) }
    case 'synthetic-tail': {
      const sorted = [...realCounts].sort((a, b) => a - b)
      const median = sorted[Math.floor(sorted.length / 2)]
      return { train: plus((l) => realCounts[l] < median, 1) }
    }
  }
}

/**
 * Trains the check's classifier in every arm with `seeds` seeds and scores each on the held-out
 * real images: balanced accuracy, macro-F1 and per-class recall, means over the seeds.
 */
export async function evaluateArms(input: ArmsInput): Promise<ArmResult[]> {
  const arms = input.arms ?? ARM_NAMES
  const classes = input.classNames.length
  const steps = input.steps ?? downstreamSteps(input.real.images.length, input.epochs)
  const out: ArmResult[] = []
  const of = arms.length * input.seeds
  let done = 0
  for (const arm of arms) {
    const { train, adjust } = armTraining(arm, input.real, input.synthetic, classes)
    const bal: number[] = []
    const f1: number[] = []
    const recalls: number[][] = []
    for (let s = 0; s < input.seeds; s++) {
      if (input.shouldStop?.()) throw new CancelledError()
      const seed = 1 + s
      const model = await trainDownstream(train, input.shape, {
        recipe: { steps, batch: 64, learningRate: 1e-3, seed },
        adjust,
        shouldStop: input.shouldStop,
      })
      const predicted = predictClasses(model, input.test.images, input.shape)
      model.dispose()
      if (input.shouldStop?.()) throw new CancelledError()
      const conf = confusion(input.test.labels, predicted, classes)
      bal.push(balancedAccuracy(conf))
      f1.push(macroF1(conf))
      recalls.push(perClassRecall(conf))
      input.onProgress?.({ arm, seed, done: ++done, of })
    }
    out.push({
      name: arm,
      balancedAccuracy: mean(bal),
      macroF1: mean(f1),
      // classes without held-out images have no recall to report
      perClassRecall: Object.fromEntries(
        input.classNames
          .map((name, c) => [name, mean(recalls.map((r) => r[c]))] as const)
          .filter(([, v]) => !Number.isNaN(v)),
      ),
      seeds: bal,
      spread: standardDeviation(bal),
    })
    input.onArm?.([...out])
  }
  return out
}

export class CancelledError extends Error {
  constructor() {
    super('The evaluation was cancelled.')
    this.name = 'CancelledError'
  }
}
