import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import type { EpochMetrics } from '../../shared/runs'
import type { TrainSettings } from '../../shared/train-settings'
import { batchArrays, epochOrder, splitIndices, type TrainingData } from './data'
import { rng } from '../util/random'
import { envVar, yieldToEvents } from '../util/runtime'
import { FusedAdam } from '../accel/ops'
import { cvaeLoss, reconstructionLoss } from '../models/cvae/loss'
import { imqMmd, waeLoss } from '../models/wae/loss'
import { modelFamily, WAE_DEFAULTS, type ModelFamily } from '../../shared/train-settings'
import { globalNormScale } from './clipping'
import { klWarmup, learningRateAt } from './schedules'
import { cvae, oneHot, reparameterize, type Cvae } from '../models/cvae/model'
import { TypicalLatentAccumulator, type LatentStats } from '../models/cvae/latent-prior'

export type { EpochMetrics }

export type { LatentStats }

export interface BatchProgress {
  epoch: number
  batch: number
  batches: number
  loss: number
  imagesPerSecond: number
  /** A VQ-VAE run's stage (vq-trainer.ts); absent for one-stage models. */
  stage?: 'vq' | 'prior'
}

export class DivergedError extends Error {
  constructor(epoch: number, batch: number) {
    super(
      `Training diverged: the loss became NaN or infinite at epoch ${epoch + 1}, batch ${batch + 1}. Try a lower learning rate or stronger gradient clipping.`,
    )
    this.name = 'DivergedError'
  }
}

/**
 * Fault injection for tests of the run supervisor: SYNTHFOLD_FAULT=diverge@E:B makes batch B of
 * epoch E report a non-finite loss, exactly as a diverging model would.
 */
export function injectedDivergence(epoch: number, batch: number): boolean {
  const m = /^diverge@(\d+):(\d+)$/.exec(envVar('SYNTHFOLD_FAULT') ?? '')
  return m !== null && Number(m[1]) === epoch && Number(m[2]) === batch
}

/**
 * Images translated by up to `max` pixels (edges mirrored), in four groups with shifts of their
 * own: DiffAugment's translation, differentiable, so decoded images can be judged through it.
 */
export function shifted(x: tf.Tensor, max: number, seed: number): tf.Tensor {
  if (max <= 0) return x
  const [n, h, w] = x.shape as [number, number, number, number]
  const rand = rng(seed)
  const padded = tf.mirrorPad(
    x as tf.Tensor4D,
    [
      [0, 0],
      [max, max],
      [max, max],
      [0, 0],
    ],
    'symmetric',
  )
  const groups = Math.min(4, n)
  const parts: tf.Tensor[] = []
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * n) / groups)
    const to = Math.floor(((g + 1) * n) / groups)
    const dy = Math.floor(rand() * (2 * max + 1))
    const dx = Math.floor(rand() * (2 * max + 1))
    parts.push(tf.slice(padded, [from, dy, dx, 0], [to - from, h, w, -1]))
  }
  return tf.concat(parts, 0)
}

/**
 * One step of the run's classifier on real images (shifted by up to `shift` px, as the class loss
 * judges decoded ones): the judge of the class loss and of the generation filters, in every family.
 */
export function classifierStep(
  classifier: tfl.LayersModel,
  vars: tf.Variable[],
  optimizer: FusedAdam,
  xt: tf.Tensor4D,
  yt: tf.Tensor2D,
  shift: number,
  seed: number,
): void {
  const c = tf.variableGrads(
    () =>
      tf.losses.softmaxCrossEntropy(
        yt,
        classifier.apply(shifted(xt, shift, seed + 1), { training: true }) as tf.Tensor2D,
      ) as tf.Scalar,
    vars,
  )
  optimizer.applyGradients(c.grads as Record<string, tf.Variable>)
}

/** A model, its optimiser and data split, trained one epoch at a time. */
export class Trainer {
  readonly model: Cvae
  readonly optimizer: FusedAdam
  readonly split: { train: number[]; val: number[] }
  epoch = 0
  /**
   * Seconds this run has trained, over every session of it (kept in checkpoints): what the time
   * budget counts. The training process keeps it up to date.
   */
  trainedSeconds = 0
  /** Bumped whenever the weights change (a step, a restore): keys the latent-statistics cache. */
  private weightsVersion = 0
  private latentCache: { version: number; limit: number; stats: LatentStats } | null = null
  private readonly vars: tf.Variable[]
  private readonly classifierVars: tf.Variable[]
  readonly classifierOptimizer: FusedAdam
  /** 'cvae' or 'wae': the two share the encoder, decoder and classifier, not the divergence. */
  readonly family: ModelFamily

  constructor(
    readonly data: TrainingData,
    readonly settings: TrainSettings,
  ) {
    const classes = data.classNames.length
    this.family = modelFamily(settings)
    if (this.family === 'vqvae')
      throw new Error('The VQ-VAE trains in its own trainer, not in the CVAE and WAE one.')
    this.model = cvae({
      size: data.size,
      channels: data.channels,
      classes,
      latentDim: settings.latentDim,
      baseFilters: settings.baseFilters,
      batchNorm: settings.batchNorm,
      seed: settings.seed,
    })
    this.vars = this.model.vaeWeights()
    this.classifierVars = this.model.classifierWeights()
    this.optimizer = new FusedAdam(settings.learningRate)
    this.classifierOptimizer = new FusedAdam(1e-3)
    this.split = splitIndices(data.labels, settings.validationSplit, settings.seed)
  }

  get classes(): number {
    return this.data.classNames.length
  }

  /**
   * Trains one epoch; calls `onBatch` after each batch and stops early (returning null) when
   * `shouldStop` says so. Throws DivergedError at the first non-finite loss. `atBatch` runs
   * before each batch, at a point where the weights are consistent (a timed checkpoint).
   */
  async trainEpoch(
    onBatch: (p: BatchProgress) => void,
    shouldStop: () => boolean,
    atBatch?: () => Promise<void>,
  ): Promise<EpochMetrics | null> {
    const s = this.settings
    const epoch = this.epoch
    const lr = learningRateAt(s.lrSchedule, s.learningRate, epoch, s.epochs)
    ;(this.optimizer as unknown as { learningRate: number }).learningRate = lr
    const rand = rng(s.seed * 7919 + epoch)
    const order = epochOrder(this.split.train, this.data.labels, s.classBalanced, rand)
    const batches = Math.max(1, Math.floor(order.length / s.batchSize)) // drop the ragged last batch
    const started = performance.now()
    let sum = { loss: 0, reconstruction: 0, kl: 0 }
    for (let b = 0; b < batches; b++) {
      // Let queued messages (a cancel) in: synchronous backends never yield on their own.
      await yieldToEvents()
      if (shouldStop()) return null
      if (b > 0) await atBatch?.()
      const idx = order.slice(b * s.batchSize, (b + 1) * s.batchSize)
      const beta = s.beta * klWarmup(epoch + b / batches, s.klWarmupEpochs)
      const [loss, rec, kl] = await this.step(idx, beta, s.seed * 100_003 + epoch * 1009 + b)
      if (!Number.isFinite(loss) || injectedDivergence(epoch, b)) throw new DivergedError(epoch, b)
      sum = { loss: sum.loss + loss, reconstruction: sum.reconstruction + rec, kl: sum.kl + kl }
      const seconds = (performance.now() - started) / 1000
      onBatch({
        epoch,
        batch: b + 1,
        batches,
        loss,
        imagesPerSecond: ((b + 1) * s.batchSize) / seconds,
      })
    }
    const seconds = (performance.now() - started) / 1000
    const val = this.evaluate(
      this.split.val.length ? this.split.val : this.split.train.slice(0, 512),
    )
    this.epoch++
    return {
      epoch,
      loss: sum.loss / batches,
      reconstruction: sum.reconstruction / batches,
      kl: sum.kl / batches,
      valLoss: this.split.val.length ? val.loss : null,
      valReconstruction: this.split.val.length ? val.reconstruction : null,
      valKl: this.split.val.length ? val.kl : null,
      activeUnits: val.activeUnits,
      learningRate: lr,
      imagesPerSecond: (batches * s.batchSize) / seconds,
      seconds,
    }
  }

  /**
   * The WAE's settings in force: lambda scaled by the image's values over 784 (a 28 px gray image)
   * as the class loss is, since the reconstruction term is a sum over them and the MMD is not: the
   * same lambda then means the same balance at every image size.
   */
  private wae(): { lambda: number; stochastic: boolean } {
    const s = this.settings
    const values = this.data.size * this.data.size * this.data.channels
    return {
      lambda: (s.waeLambda ?? WAE_DEFAULTS.lambda) * (values / 784),
      stochastic: (s.waeEncoder ?? WAE_DEFAULTS.encoder) === 'stochastic',
    }
  }

  /** One optimiser step; returns [total, reconstruction, KL or MMD] of the batch. */
  private async step(
    indices: number[],
    beta: number,
    seed: number,
  ): Promise<[number, number, number]> {
    const s = this.settings
    const { size, channels } = this.data
    const { x, y } = batchArrays(this.data, indices, this.classes)
    const n = indices.length
    const shift = s.classAugmentShift ?? 0
    const out = tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, size, size, channels])
      const yt = tf.tensor2d(y, [n, this.classes])
      // Labels for the prior samples the class loss judges: every class equally often.
      // A quarter batch is enough for this signal and keeps its cost (a second decoder pass) small.
      const m = Math.max(this.classes, Math.ceil(n / 4))
      const fakeYf = oneHot(
        Array.from({ length: m }, (_, i) => (i + seed) % this.classes),
        this.classes,
      )
      let parts: [tf.Scalar, tf.Scalar] | null = null
      const { value, grads } = tf.variableGrads(() => {
        const [mu, logvar] = this.model.encoder.apply([xt, yt], { training: true }) as tf.Tensor2D[]
        let total: tf.Scalar
        if (this.family === 'wae') {
          const w = this.wae()
          const z = w.stochastic ? reparameterize(mu, logvar, seed) : mu
          const logits = this.model.decoder.apply([z, yt], { training: true }) as tf.Tensor4D
          const prior = tf.randomNormal(z.shape, 0, 1, 'float32', seed + 29) as tf.Tensor2D
          const l = waeLoss(xt, logits, z, prior, {
            lambda: w.lambda,
            reconstruction: s.reconstruction,
          })
          parts = [tf.keep(l.reconstruction), tf.keep(l.mmd)]
          total = l.total
        } else {
          const z = reparameterize(mu, logvar, seed)
          const logits = this.model.decoder.apply([z, yt], { training: true }) as tf.Tensor4D
          const l = cvaeLoss(xt, logits, mu, logvar, {
            beta,
            freeBits: s.freeBits,
            reconstruction: s.reconstruction,
          })
          parts = [tf.keep(l.reconstruction), tf.keep(l.kl)]
          total = l.total
        }
        if (s.classLossWeight <= 0) return total
        // The decoder is judged on images it makes from the prior, for labels it is given: a
        // decoder that ignores the label cannot satisfy the classifier.
        const zPrior = tf.randomNormal([m, s.latentDim], 0, 1, 'float32', seed + 17)
        const fake = tf.sigmoid(
          this.model.decoder.apply([zPrior, fakeYf], { training: true }) as tf.Tensor,
        )
        const judged = this.model.classifier.apply(shifted(fake, shift, seed)) as tf.Tensor2D
        const aux = tf.losses.softmaxCrossEntropy(fakeYf, judged) as tf.Scalar
        return tf.add(
          total,
          tf.mul(s.classLossWeight * ((size * size * channels) / 784), aux),
        ) as tf.Scalar
      }, this.vars)
      // Clipping by global norm: the scale is applied inside the optimiser's step.
      this.optimizer.applyGradients(grads, globalNormScale(grads, s.clipNorm).scale ?? undefined)
      if (s.classLossWeight > 0)
        classifierStep(
          this.model.classifier,
          this.classifierVars,
          this.classifierOptimizer,
          xt,
          yt,
          shift,
          seed,
        )
      const [rec, kl] = parts as unknown as [tf.Scalar, tf.Scalar]
      const stacked = tf.stack([value, rec, kl])
      rec.dispose()
      kl.dispose()
      return stacked
    })
    this.weightsChanged()
    const values = (await out.data()) as Float32Array
    out.dispose()
    return [values[0], values[1], values[2]]
  }

  /**
   * Where each class's training images sit in latent space: the mean and spread (means' variance
   * plus the average posterior variance) per dimension. Sampling from these fitted Gaussians
   * instead of N(0, I) keeps samples where the decoder has learnt to draw (a class-conditional
   * prior fitted after training). With the class loss on, each class is fitted on the images the
   * run's classifier recognises as that class (TypicalLatentAccumulator).
   */
  latentStats(limit = Infinity): LatentStats {
    // An encoder (and classifier) pass over the whole dataset: several seconds for a few thousand
    // 128 px images. The epoch's previews and its best and last checkpoints share one; a result
    // over all images also serves a request for fewer.
    const c = this.latentCache
    if (c && c.version === this.weightsVersion && c.limit >= limit) return c.stats
    const stats = this.computeLatentStats(limit)
    this.latentCache = { version: this.weightsVersion, limit, stats }
    return stats
  }

  /**
   * The statistics fitted last, whatever the weights since (at most an epoch old during training);
   * if none were, a fit on up to 1,024 images (as the previews use).
   */
  latestLatentStats(): LatentStats {
    return this.latentCache?.stats ?? this.latentStats(1024)
  }

  /** Call after changing the weights outside a training step (restoring a checkpoint). */
  weightsChanged(): void {
    this.weightsVersion++
  }

  private computeLatentStats(limit: number): LatentStats {
    const d = this.settings.latentDim
    const judged = this.settings.classLossWeight > 0
    const acc = new TypicalLatentAccumulator(this.classes, d)
    const all = [...this.split.train, ...this.split.val].slice(0, limit)
    for (let i = 0; i < all.length; i += 256) {
      const idx = all.slice(i, i + 256)
      const { x, y } = batchArrays(this.data, idx, this.classes)
      const [mu, variance, predicted] = tf.tidy(() => {
        const xt = tf.tensor4d(x, [idx.length, this.data.size, this.data.size, this.data.channels])
        const [m, l] = this.model.encoder.apply([
          xt,
          tf.tensor2d(y, [idx.length, this.classes]),
        ]) as tf.Tensor[]
        const p = judged
          ? (tf.argMax(this.model.classifier.apply(xt) as tf.Tensor, 1).dataSync() as Int32Array)
          : undefined
        // a deterministic WAE's codes are points: its untrained log-variance head is no spread
        const v = this.family === 'wae' && !this.wae().stochastic ? tf.zerosLike(l) : tf.exp(l)
        return [m.dataSync() as Float32Array, v.dataSync() as Float32Array, p]
      })
      idx.forEach((img, j) => {
        const c = this.data.labels[img]
        acc.add(
          c,
          mu.subarray(j * d, (j + 1) * d),
          variance.subarray(j * d, (j + 1) * d),
          predicted === undefined || predicted[j] === c,
        )
      })
    }
    return acc.finish()
  }

  /**
   * Loss on held-out images (z = mu; the CVAE's with beta = 1, the WAE's with its lambda; `kl`
   * carries the WAE's MMD) and how many latent units carry information.
   */
  evaluate(indices: number[]): {
    loss: number
    reconstruction: number
    kl: number
    activeUnits: number
  } {
    const s = this.settings
    const chunk = 256
    let rec = 0
    let kl = 0
    const mus: tf.Tensor2D[] = []
    for (let i = 0; i < indices.length; i += chunk) {
      const idx = indices.slice(i, i + chunk)
      const { x, y } = batchArrays(this.data, idx, this.classes)
      const [r, k, mu] = tf.tidy(() => {
        const xt = tf.tensor4d(x, [idx.length, this.data.size, this.data.size, this.data.channels])
        const yt = tf.tensor2d(y, [idx.length, this.classes])
        const [m, lv] = this.model.encoder.apply([xt, yt]) as tf.Tensor2D[]
        const logits = this.model.decoder.apply([m, yt]) as tf.Tensor4D
        if (this.family === 'wae') {
          const r = reconstructionLoss(xt, logits, s.reconstruction)
          return [r.dataSync()[0], 0, tf.keep(m)] as const
        }
        const l = cvaeLoss(xt, logits, m, lv, {
          beta: 1,
          freeBits: 0,
          reconstruction: s.reconstruction,
        })
        return [l.reconstruction.dataSync()[0], l.kl.dataSync()[0], tf.keep(m)] as const
      })
      rec += r * idx.length
      kl += k * idx.length
      mus.push(mu)
    }
    const n = Math.max(1, indices.length)
    let divergence = kl / n
    let loss = (rec + kl) / n
    if (this.family === 'wae') {
      // the MMD of the held-out codes (up to 512, seeded prior samples) from the prior
      const w = this.wae()
      divergence = tf.tidy(() => {
        const joined = tf.concat(mus, 0) as tf.Tensor2D
        const all = tf.slice(joined, [0, 0], [Math.min(512, joined.shape[0]), -1]) as tf.Tensor2D
        const prior = tf.randomNormal(all.shape, 0, 1, 'float32', s.seed + 31) as tf.Tensor2D
        return imqMmd(all, prior).dataSync()[0]
      })
      loss = rec / n + w.lambda * divergence
    }
    const activeUnits = tf.tidy(() => {
      const all = tf.concat(mus, 0)
      const variance = tf.moments(all, 0).variance
      return tf.sum(tf.cast(tf.greater(variance, 0.01), 'int32')).dataSync()[0]
    })
    mus.forEach((m) => m.dispose())
    return { loss, reconstruction: rec / n, kl: divergence, activeUnits }
  }

  dispose(): void {
    this.model.dispose()
    this.optimizer.dispose()
    this.classifierOptimizer.dispose()
  }
}
