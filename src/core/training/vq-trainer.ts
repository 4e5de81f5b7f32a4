import * as tf from '@tensorflow/tfjs-core'
import type { EpochMetrics } from '../../shared/runs'
import { vqSettings, type TrainSettings } from '../../shared/train-settings'
import { batchArrays, epochOrder, splitIndices, type TrainingData } from './data'
import { rng } from '../util/random'
import { yieldToEvents } from '../util/runtime'
import { FusedAdam } from '../accel/ops'
import { globalNormScale } from './clipping'
import { learningRateAt } from './schedules'
import { oneHot } from '../models/cvae/model'
import { vqAutoencoder, vqShape, type VqAutoencoder } from '../models/vqvae/model'
import { Quantizer, codeUsage } from '../models/vqvae/quantizer'
import { PRIOR_FILTERS, PRIOR_LAYERS, PixelCnnPrior } from '../models/vqvae/prior'
import { reconstructionLoss } from '../models/cvae/loss'
import { classifierStep, DivergedError, injectedDivergence, type BatchProgress } from './trainer'

/** A code the encoder has not chosen in this many steps is restarted (quantizer.ts). */
export const RESTART_AFTER = 20

/** The prior's learning rate: small models over short code grids train well at it with Adam. */
const PRIOR_LEARNING_RATE = 2e-3

interface StageOneFigures {
  reconstruction: number
  kl: number
  valReconstruction: number | null
  valKl: number | null
  perplexity: number
  usedCodes: number
}

/**
 * A VQ-VAE run, trained in two stages within one run: epochs [0, epochs) train the autoencoder
 * and its codebook (with the classifier the generation filters use, as the CVAE's run trains it),
 * epochs [epochs, epochs + priorEpochs) the class-conditional PixelCNN prior over the code grids
 * of the training images, with the autoencoder frozen. The worker drives it as it drives the CVAE's
 * Trainer, one epoch at a time; `stage` says which.
 */
export class VqTrainer {
  readonly model: VqAutoencoder
  readonly quantizer: Quantizer
  readonly prior: PixelCnnPrior
  readonly optimizer: FusedAdam
  readonly classifierOptimizer: FusedAdam
  readonly priorOptimizer: FusedAdam
  readonly split: { train: number[]; val: number[] }
  epoch = 0
  trainedSeconds = 0
  private readonly vars: tf.Variable[]
  private readonly classifierVars: tf.Variable[]
  /** Every image's code grid under the current (frozen) autoencoder; made at stage 2's start. */
  private codeGrids: Int32Array | null = null
  private stageOne: StageOneFigures | null = null

  constructor(
    readonly data: TrainingData,
    readonly settings: TrainSettings,
  ) {
    const v = vqSettings(settings)
    const classes = data.classNames.length
    const shape = vqShape({
      size: data.size,
      channels: data.channels,
      classes,
      baseFilters: settings.baseFilters,
      codebookSize: v.codebookSize,
      codeDim: v.codeDim,
      seed: settings.seed,
    })
    this.model = vqAutoencoder(shape)
    this.quantizer = new Quantizer({
      codebookSize: v.codebookSize,
      codeDim: v.codeDim,
      ema: v.ema,
      restartAfter: RESTART_AFTER,
      initFromData: true,
      seed: settings.seed + 3,
    })
    this.prior = new PixelCnnPrior({
      grid: shape.grid,
      codebookSize: v.codebookSize,
      classes,
      filters: PRIOR_FILTERS,
      layers: PRIOR_LAYERS,
      seed: settings.seed,
    })
    this.vars = [...this.model.autoencoderWeights(), ...this.quantizer.trainable()]
    this.classifierVars = this.model.classifierWeights()
    this.optimizer = new FusedAdam(settings.learningRate)
    this.classifierOptimizer = new FusedAdam(1e-3)
    this.priorOptimizer = new FusedAdam(PRIOR_LEARNING_RATE)
    this.split = splitIndices(data.labels, settings.validationSplit, settings.seed)
  }

  get classes(): number {
    return this.data.classNames.length
  }

  get stage(): 'vq' | 'prior' {
    return this.epoch < this.settings.epochs ? 'vq' : 'prior'
  }

  /** Epochs the prior has trained: a checkpoint with none cannot sample. */
  get priorEpochsDone(): number {
    return Math.max(0, this.epoch - this.settings.epochs)
  }

  get totalEpochs(): number {
    return this.settings.epochs + vqSettings(this.settings).priorEpochs
  }

  /** Ends stage 1 early (early stopping, the time budget): the next epoch trains the prior. */
  skipToPrior(): void {
    if (this.epoch < this.settings.epochs) this.epoch = this.settings.epochs
  }

  /** Call after changing the weights outside a training step (restoring a checkpoint). */
  weightsChanged(): void {
    this.codeGrids = null
    this.stageOne = null
  }

  async trainEpoch(
    onBatch: (p: BatchProgress) => void,
    shouldStop: () => boolean,
    atBatch?: () => Promise<void>,
  ): Promise<EpochMetrics | null> {
    return this.stage === 'vq'
      ? this.trainAutoencoderEpoch(onBatch, shouldStop, atBatch)
      : this.trainPriorEpoch(onBatch, shouldStop, atBatch)
  }

  private async trainAutoencoderEpoch(
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
    const batches = Math.max(1, Math.floor(order.length / s.batchSize))
    const started = performance.now()
    const sum = { loss: 0, reconstruction: 0, commitment: 0 }
    let restarted = 0
    for (let b = 0; b < batches; b++) {
      await yieldToEvents()
      if (shouldStop()) return null
      if (b > 0) await atBatch?.()
      const idx = order.slice(b * s.batchSize, (b + 1) * s.batchSize)
      const seed = s.seed * 100_003 + epoch * 1009 + b
      const [loss, rec, commit, r] = await this.autoencoderStep(idx, seed)
      if (!Number.isFinite(loss) || injectedDivergence(epoch, b)) throw new DivergedError(epoch, b)
      sum.loss += loss
      sum.reconstruction += rec
      sum.commitment += commit
      restarted += r
      onBatch({
        epoch,
        batch: b + 1,
        batches,
        loss,
        imagesPerSecond: ((b + 1) * s.batchSize) / ((performance.now() - started) / 1000),
        stage: 'vq',
      })
    }
    const seconds = (performance.now() - started) / 1000
    const hasVal = this.split.val.length > 0
    const val = this.evaluateAutoencoder(hasVal ? this.split.val : this.split.train.slice(0, 512))
    this.epoch++
    const commitment = vqSettings(s).commitment
    return {
      epoch,
      loss: sum.loss / batches,
      reconstruction: sum.reconstruction / batches,
      kl: sum.commitment / batches,
      valLoss: hasVal ? val.reconstruction + commitment * val.commitment : null,
      valReconstruction: hasVal ? val.reconstruction : null,
      valKl: hasVal ? val.commitment : null,
      activeUnits: val.usedCodes,
      learningRate: lr,
      imagesPerSecond: (batches * s.batchSize) / seconds,
      seconds,
      stage: 'vq',
      perplexity: val.perplexity,
      usedCodes: val.usedCodes,
      restartedCodes: restarted,
    }
  }

  /** One step of stage 1; [total, reconstruction, commitment, codes restarted]. */
  private async autoencoderStep(
    indices: number[],
    seed: number,
  ): Promise<[number, number, number, number]> {
    const s = this.settings
    const { size, channels } = this.data
    const { x, y } = batchArrays(this.data, indices, this.classes)
    const n = indices.length
    const beta = vqSettings(s).commitment
    let kept: { flat: tf.Tensor2D; indices: tf.Tensor1D } | null = null
    const out = tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, size, size, channels])
      const yt = tf.tensor2d(y, [n, this.classes])
      let parts: [tf.Scalar, tf.Scalar] | null = null
      const { value, grads } = tf.variableGrads(() => {
        const z = this.model.encoder.apply(xt, { training: true }) as tf.Tensor4D
        const q = this.quantizer.quantize(z, n)
        const logits = this.model.decoder.apply([q.quantized, yt], {
          training: true,
        }) as tf.Tensor4D
        const rec = reconstructionLoss(xt, logits, s.reconstruction)
        parts = [tf.keep(rec), tf.keep(q.commitment)]
        kept = { flat: tf.keep(q.flat), indices: tf.keep(q.indices) }
        return tf.add(tf.add(rec, tf.mul(beta, q.commitment)), q.codebookLoss) as tf.Scalar
      }, this.vars)
      this.optimizer.applyGradients(grads, globalNormScale(grads, s.clipNorm).scale ?? undefined)
      // The generation filters' classifier learns from the real images, as in a CVAE run.
      if (s.classLossWeight > 0)
        classifierStep(
          this.model.classifier,
          this.classifierVars,
          this.classifierOptimizer,
          xt,
          yt,
          s.classAugmentShift ?? 0,
          seed,
        )
      const [rec, commit] = parts as unknown as [tf.Scalar, tf.Scalar]
      const stacked = tf.stack([value, rec, commit])
      rec.dispose()
      commit.dispose()
      return stacked
    })
    const k = kept as unknown as { flat: tf.Tensor2D; indices: tf.Tensor1D }
    const restarted = this.quantizer.update(k.flat, k.indices, seed)
    k.flat.dispose()
    k.indices.dispose()
    this.weightsChanged()
    const values = (await out.data()) as Float32Array
    out.dispose()
    return [values[0], values[1], values[2], restarted]
  }

  /** Reconstruction and commitment on images, and how they use the codebook. */
  evaluateAutoencoder(indices: number[]): {
    reconstruction: number
    commitment: number
    perplexity: number
    usedCodes: number
  } {
    const s = this.settings
    const counts = new Float64Array(this.quantizer.o.codebookSize)
    let rec = 0
    let commit = 0
    for (let i = 0; i < indices.length; i += 256) {
      const idx = indices.slice(i, i + 256)
      const { x, y } = batchArrays(this.data, idx, this.classes)
      const [r, c, codes] = tf.tidy(() => {
        const xt = tf.tensor4d(x, [idx.length, this.data.size, this.data.size, this.data.channels])
        const yt = tf.tensor2d(y, [idx.length, this.classes])
        const z = this.model.encoder.apply(xt) as tf.Tensor4D
        const q = this.quantizer.quantize(z, idx.length)
        const logits = this.model.decoder.apply([q.quantized, yt]) as tf.Tensor4D
        return [
          reconstructionLoss(xt, logits, s.reconstruction).dataSync()[0],
          q.commitment.dataSync()[0],
          q.indices.dataSync() as Int32Array,
        ] as const
      })
      rec += r * idx.length
      commit += c * idx.length
      for (let j = 0; j < codes.length; j++) counts[codes[j]]++
    }
    const n = Math.max(1, indices.length)
    return { reconstruction: rec / n, commitment: commit / n, ...codeUsage(counts) }
  }

  /** Code grids of images (grid * grid indices each, raster order), under the current weights. */
  encodeCodes(indices: number[]): Int32Array {
    const cells = this.model.shape.grid ** 2
    const out = new Int32Array(indices.length * cells)
    for (let i = 0; i < indices.length; i += 256) {
      const idx = indices.slice(i, i + 256)
      const { x } = batchArrays(this.data, idx, this.classes)
      const codes = tf.tidy(() =>
        this.quantizer.codes(
          this.model.encoder.apply(
            tf.tensor4d(x, [idx.length, this.data.size, this.data.size, this.data.channels]),
          ) as tf.Tensor4D,
        ),
      )
      out.set(codes, i * cells)
    }
    return out
  }

  /** Every image's code grid, image i at i * grid^2 (made once per set of weights). */
  private allCodes(): Int32Array {
    this.codeGrids ??= this.encodeCodes(Array.from({ length: this.data.count }, (_, i) => i))
    return this.codeGrids
  }

  /** What the autoencoder ended stage 1 with: the prior's epochs report these beside its own. */
  private stageOneFigures(): StageOneFigures {
    if (this.stageOne) return this.stageOne
    const hasVal = this.split.val.length > 0
    const tr = this.evaluateAutoencoder(this.split.train.slice(0, 512))
    const val = hasVal ? this.evaluateAutoencoder(this.split.val) : tr
    this.stageOne = {
      reconstruction: tr.reconstruction,
      kl: tr.commitment,
      valReconstruction: hasVal ? val.reconstruction : null,
      valKl: hasVal ? val.commitment : null,
      perplexity: val.perplexity,
      usedCodes: val.usedCodes,
    }
    return this.stageOne
  }

  private async trainPriorEpoch(
    onBatch: (p: BatchProgress) => void,
    shouldStop: () => boolean,
    atBatch?: () => Promise<void>,
  ): Promise<EpochMetrics | null> {
    const s = this.settings
    const epoch = this.epoch
    const priorEpochs = vqSettings(s).priorEpochs
    const pe = this.priorEpochsDone
    const lr = learningRateAt(s.lrSchedule, PRIOR_LEARNING_RATE, pe, priorEpochs)
    ;(this.priorOptimizer as unknown as { learningRate: number }).learningRate = lr
    const codes = this.allCodes()
    const figures = this.stageOneFigures()
    const rand = rng(s.seed * 7919 + epoch)
    const order = epochOrder(this.split.train, this.data.labels, s.classBalanced, rand)
    const batches = Math.max(1, Math.floor(order.length / s.batchSize))
    const started = performance.now()
    let sum = 0
    for (let b = 0; b < batches; b++) {
      await yieldToEvents()
      if (shouldStop()) return null
      if (b > 0) await atBatch?.()
      const idx = order.slice(b * s.batchSize, (b + 1) * s.batchSize)
      const loss = await this.priorStep(codes, idx)
      if (!Number.isFinite(loss) || injectedDivergence(epoch, b)) throw new DivergedError(epoch, b)
      sum += loss
      onBatch({
        epoch,
        batch: b + 1,
        batches,
        loss,
        imagesPerSecond: ((b + 1) * s.batchSize) / ((performance.now() - started) / 1000),
        stage: 'prior',
      })
    }
    const seconds = (performance.now() - started) / 1000
    const hasVal = this.split.val.length > 0
    const valLoss = hasVal ? this.priorLoss(codes, this.split.val) : null
    this.epoch++
    return {
      epoch,
      loss: sum / batches,
      reconstruction: figures.reconstruction,
      kl: figures.kl,
      valLoss,
      valReconstruction: figures.valReconstruction,
      valKl: figures.valKl,
      activeUnits: figures.usedCodes,
      learningRate: lr,
      imagesPerSecond: (batches * s.batchSize) / seconds,
      seconds,
      stage: 'prior',
      perplexity: figures.perplexity,
      usedCodes: figures.usedCodes,
    }
  }

  private gridsOf(codes: Int32Array, indices: number[]): { grids: Int32Array; labels: number[] } {
    const cells = this.model.shape.grid ** 2
    const grids = new Int32Array(indices.length * cells)
    indices.forEach((img, j) =>
      grids.set(codes.subarray(img * cells, (img + 1) * cells), j * cells),
    )
    return { grids, labels: indices.map((i) => this.data.labels[i]) }
  }

  private async priorStep(codes: Int32Array, indices: number[]): Promise<number> {
    const g = this.model.shape.grid
    const { grids, labels } = this.gridsOf(codes, indices)
    const out = tf.tidy(() => {
      const c = tf.tensor3d(grids, [indices.length, g, g], 'int32')
      const y = oneHot(labels, this.classes)
      const { value, grads } = tf.variableGrads(() => this.prior.loss(c, y), this.prior.variables)
      this.priorOptimizer.applyGradients(
        grads,
        globalNormScale(grads, this.settings.clipNorm).scale ?? undefined,
      )
      return value
    })
    const v = (await out.data())[0]
    out.dispose()
    return v
  }

  /** The prior's mean negative log-likelihood per code (nats) on images. */
  priorLoss(codes: Int32Array, indices: number[]): number {
    const g = this.model.shape.grid
    let total = 0
    for (let i = 0; i < indices.length; i += 256) {
      const idx = indices.slice(i, i + 256)
      const { grids, labels } = this.gridsOf(codes, idx)
      total +=
        tf.tidy(() =>
          this.prior
            .loss(tf.tensor3d(grids, [idx.length, g, g], 'int32'), oneHot(labels, this.classes))
            .dataSync(),
        )[0] * idx.length
    }
    return total / Math.max(1, indices.length)
  }

  /** uint8 images decoded from code grids (grid^2 codes each) with their class indices. */
  decodeCodes(grids: Int32Array, labels: number[]): Uint8Array[] {
    const { grid, codeDim } = this.model.shape
    const n = labels.length
    const px = tf.tidy(() => {
      const codes = tf.reshape(tf.gather(this.quantizer.codebook, tf.tensor1d(grids, 'int32')), [
        n,
        grid,
        grid,
        codeDim,
      ])
      const logits = this.model.decoder.apply([codes, oneHot(labels, this.classes)]) as tf.Tensor
      return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32').dataSync() as Int32Array
    })
    const record = px.length / Math.max(1, n)
    return labels.map((_, i) => Uint8Array.from(px.subarray(i * record, (i + 1) * record)))
  }

  /** Reconstructions of dataset images through their nearest codes. */
  reconstruct(indices: number[]): Uint8Array[] {
    return this.decodeCodes(
      this.encodeCodes(indices),
      indices.map((i) => this.data.labels[i]),
    )
  }

  dispose(): void {
    this.model.dispose()
    this.quantizer.dispose()
    this.prior.dispose()
    this.optimizer.dispose()
    this.classifierOptimizer.dispose()
    this.priorOptimizer.dispose()
  }
}
