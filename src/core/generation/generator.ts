import type { CodeRegion } from '../../shared/studio'
import * as tf from '@tensorflow/tfjs-core'
import { readCheckpointTensors, type CheckpointMeta } from '../training/checkpoint'
import { rng } from '../util/random'
import { latentSample } from '../models/cvae/latent-prior'
import { classifier, decoder, encoder, oneHot } from '../models/cvae/model'
import { model as tfModel } from '@tensorflow/tfjs-layers'
import type * as tfl from '@tensorflow/tfjs-layers'
import { DEFAULT_TEMPERATURE } from '../../shared/generation'
import { vqDecoder, vqEncoder, type VqShape } from '../models/vqvae/model'
import { PRIOR_FILTERS, PRIOR_LAYERS, PixelCnnPrior } from '../models/vqvae/prior'
import { nearestCodes } from '../models/vqvae/quantizer'

/** Rows of class weights (soft labels, k each) as one [rows, k] tensor. */
function softLabels(ys: Float32Array[], k: number): tf.Tensor2D {
  const flat = new Float32Array(ys.length * k)
  ys.forEach((y, j) => flat.set(y, j * k))
  return tf.tensor2d(flat, [ys.length, k])
}

/**
 * A trained CVAE loaded from a checkpoint, for sampling, reconstruction and encoding. All work is
 * batched; results are uint8 pixels (size x size x channels per image) or float latent means.
 */
export class Generator {
  protected constructor(
    readonly meta: CheckpointMeta,
    protected readonly enc: tfl.LayersModel,
    protected readonly dec: tfl.LayersModel,
    protected readonly cls: tfl.LayersModel | null,
  ) {}

  /** A checkpoint's generator, of its run's model family (a VQ-VAE's is a VqGenerator). */
  static load(dir: string): Generator {
    const { meta, groups } = readCheckpointTensors(dir)
    if (meta.settings.model === 'vqvae') return VqGenerator.fromTensors(meta, groups)
    const enc = encoder(meta.shape)
    const dec = decoder(meta.shape)
    enc.setWeights(groups.encoder)
    dec.setWeights(groups.decoder)
    let cls: tfl.LayersModel | null = null
    if (groups.classifier?.length) {
      cls = classifier(meta.shape)
      cls.setWeights(groups.classifier)
    }
    for (const t of Object.values(groups).flat()) t.dispose()
    return new Generator(meta, enc, dec, cls)
  }

  /**
   * A deterministic WAE's codes are points (z = mu): its log-variance head never trained, so what
   * it outputs is read as 0 (the audit's KL term is then the prior distance 0.5 |mu|^2).
   */
  protected get pointCodes(): boolean {
    const s = this.meta.settings
    return s.model === 'wae' && (s.waeEncoder ?? 'deterministic') === 'deterministic'
  }

  get classNames(): string[] {
    return this.meta.classNames
  }

  /**
   * n images of class `classIndex`, drawn from one seeded stream (previews and the CLI's sample).
   * z = m_c + temperature * L_c * eps with the class's fitted latent prior (N(0, I) without one).
   */
  sample(
    classIndex: number,
    n: number,
    temperature = 1,
    seed = 1,
  ): { pixels: Uint8Array[]; latents: Float32Array[] } {
    const rand = rng(seed)
    const latents = Array.from({ length: n }, () => this.latent(rand, classIndex, temperature))
    return { pixels: this.decode(latents, new Array(n).fill(classIndex)), latents }
  }

  /**
   * One latent vector per seed: each sample of a generation owns its seed, so any one of them can
   * be made again on its own, exactly, from (checkpoint, class, seed, temperature).
   */
  latentsForSeeds(classIndex: number, seeds: number[], temperature: number): Float32Array[] {
    return seeds.map((s) => this.latent(rng(s), classIndex, temperature))
  }

  private latent(rand: () => number, classIndex: number, temperature: number): Float32Array {
    const d = this.meta.shape.latentDim
    const eps = new Float64Array(d)
    for (let i = 0; i < d; i += 2) {
      // Box-Muller from the seeded uniform stream
      const u = Math.max(rand(), 1e-12)
      const v = rand()
      const r = Math.sqrt(-2 * Math.log(u))
      eps[i] = r * Math.cos(2 * Math.PI * v)
      if (i + 1 < d) eps[i + 1] = r * Math.sin(2 * Math.PI * v)
    }
    const z = new Float32Array(d)
    latentSample(this.meta.latentStats, classIndex, eps, temperature, z)
    return z
  }

  get hasClassifier(): boolean {
    return this.cls !== null
  }

  /** Class probabilities (softmax of the run's classifier) for uint8 images, one array per image. */
  classify(images: Uint8Array[], batch = 256): Float32Array[] {
    if (!this.cls) throw new Error('This checkpoint has no classifier.')
    const { size, channels, classes: k } = this.meta.shape
    const out: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const probs = tf.tidy(() =>
        tf.softmax(
          this.cls!.apply(tf.tensor4d(flat, [imgs.length, size, size, channels])) as tf.Tensor2D,
        ),
      )
      const data = probs.dataSync() as Float32Array
      probs.dispose()
      for (let j = 0; j < imgs.length; j++) out.push(data.slice(j * k, (j + 1) * k))
    }
    return out
  }

  /** Decodes given latent vectors with given class indices, in batches. */
  decode(latents: Float32Array[], classes: number[], batch = 256): Uint8Array[] {
    return this.decodeWith(
      latents,
      (from, to) => oneHot(classes.slice(from, to), this.meta.shape.classes),
      batch,
    )
  }

  /**
   * Decodes latent vectors under soft labels (one vector of class weights per latent): an
   * interpolation across two classes moves the label from one one-hot to the other.
   */
  decodeMixed(latents: Float32Array[], labels: Float32Array[], batch = 256): Uint8Array[] {
    const k = this.meta.shape.classes
    return this.decodeWith(latents, (from, to) => softLabels(labels.slice(from, to), k), batch)
  }

  private decodeWith(
    latents: Float32Array[],
    label: (from: number, to: number) => tf.Tensor2D,
    batch: number,
  ): Uint8Array[] {
    const { latentDim } = this.meta.shape
    const out: Uint8Array[] = []
    for (let i = 0; i < latents.length; i += batch) {
      const zs = latents.slice(i, i + batch)
      const flat = new Float32Array(zs.length * latentDim)
      zs.forEach((z, j) => flat.set(z, j * latentDim))
      const px = tf.tidy(() => {
        const z = tf.tensor2d(flat, [zs.length, latentDim])
        const y = label(i, i + zs.length)
        const logits = this.dec.apply([z, y]) as tf.Tensor4D
        return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32')
      })
      const data = px.dataSync() as Int32Array
      px.dispose()
      const per = data.length / zs.length
      for (let j = 0; j < zs.length; j++)
        out.push(Uint8Array.from(data.subarray(j * per, (j + 1) * per)))
    }
    return out
  }

  /** Latent means of images (uint8 pixels) with their class indices. */
  encode(images: Uint8Array[], classes: number[], batch = 256): Float32Array[] {
    const { size, channels, classes: k, latentDim } = this.meta.shape
    const out: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const mu = tf.tidy(() => {
        const x = tf.tensor4d(flat, [imgs.length, size, size, channels])
        const y = oneHot(classes.slice(i, i + batch), k)
        return (this.enc.apply([x, y]) as tf.Tensor[])[0]
      })
      const data = mu.dataSync() as Float32Array
      mu.dispose()
      for (let j = 0; j < imgs.length; j++) out.push(data.slice(j * latentDim, (j + 1) * latentDim))
    }
    return out
  }

  /**
   * Latent means and log-variances of images under their labels: what the studio ranks latent
   * dimensions by (the per-dimension KL to the prior, the spread of the means).
   */
  encodeFull(
    images: Uint8Array[],
    classes: number[],
    batch = 256,
  ): { mu: Float32Array[]; logvar: Float32Array[] } {
    const { size, channels, classes: k, latentDim } = this.meta.shape
    const mu: Float32Array[] = []
    const logvar: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const [m, lv] = tf.tidy(() => {
        const x = tf.tensor4d(flat, [imgs.length, size, size, channels])
        const y = oneHot(classes.slice(i, i + batch), k)
        const [mu, raw] = this.enc.apply([x, y]) as tf.Tensor[]
        return [mu, this.pointCodes ? tf.zerosLike(raw) : raw]
      })
      const md = m.dataSync() as Float32Array
      const ld = lv.dataSync() as Float32Array
      m.dispose()
      lv.dispose()
      for (let j = 0; j < imgs.length; j++) {
        mu.push(md.slice(j * latentDim, (j + 1) * latentDim))
        logvar.push(ld.slice(j * latentDim, (j + 1) * latentDim))
      }
    }
    return { mu, logvar }
  }

  private penultimate: tfl.LayersModel | null = null

  /**
   * The classifier's penultimate activations (the flattened features its class logits read) for
   * uint8 images: what the studio's map projects when the person picks "classifier features".
   */
  classifierFeatures(images: Uint8Array[], batch = 256): Float32Array[] {
    if (!this.cls) throw new Error('This checkpoint has no classifier.')
    const logits = this.cls.getLayer('class_logits')
    this.penultimate ??= tfModel({
      inputs: this.cls.inputs,
      outputs: logits.input as tfl.SymbolicTensor,
    })
    const { size, channels } = this.meta.shape
    const out: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const f = tf.tidy(
        () =>
          this.penultimate!.apply(tf.tensor4d(flat, [imgs.length, size, size, channels]), {
            training: false,
          }) as tf.Tensor2D,
      )
      const data = f.dataSync() as Float32Array
      const d = f.shape[1]
      f.dispose()
      for (let j = 0; j < imgs.length; j++) out.push(data.slice(j * d, (j + 1) * d))
    }
    return out
  }

  /**
   * The two terms of the negative ELBO of images under given class labels, from the latent mean
   * (no sampling noise, so the same image always scores the same): for pair p (image
   * `pairs[2p]` under class `pairs[2p + 1]`) the reconstruction (the run's likelihood summed over
   * pixels: BCE, or the squared error for a Gaussian or MSE run, which the caller scales) and
   * KL(q(z|x,y) || N(0, I)), with the latent mean. The encoder and the decoder both take the
   * label, so a label that does not fit the image costs in both terms.
   */
  scoreLabels(
    images: Uint8Array[],
    pairs: Int32Array,
    batch = 512,
  ): { reconstruction: Float32Array; kl: Float32Array; latents: Float32Array } {
    const { size, channels, classes: k, latentDim } = this.meta.shape
    const record = size * size * channels
    const kind = this.meta.settings.reconstruction
    const n = pairs.length / 2
    const reconstruction = new Float32Array(n)
    const kl = new Float32Array(n)
    const latents = new Float32Array(n * latentDim)
    for (let p0 = 0; p0 < n; p0 += batch) {
      const b = Math.min(batch, n - p0)
      const flat = new Float32Array(b * record)
      const labels: number[] = []
      for (let q = 0; q < b; q++) {
        const im = images[pairs[2 * (p0 + q)]]
        for (let t = 0; t < record; t++) flat[q * record + t] = im[t] / 255
        labels.push(pairs[2 * (p0 + q) + 1])
      }
      const [rec, div, mus] = tf.tidy(() => {
        const x = tf.tensor4d(flat, [b, size, size, channels])
        const y = oneHot(labels, k)
        const [mu, raw] = this.enc.apply([x, y]) as tf.Tensor2D[]
        const logvar = this.pointCodes ? tf.zerosLike(raw) : raw
        const logits = this.dec.apply([mu, y]) as tf.Tensor4D
        const r = reconstructionPerImage(kind, logits, x)
        const d = tf.sum(
          tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar))),
          1,
        )
        return [r, d, mu]
      })
      reconstruction.set(rec.dataSync() as Float32Array, p0)
      kl.set(div.dataSync() as Float32Array, p0)
      latents.set(mus.dataSync() as Float32Array, p0 * latentDim)
      rec.dispose()
      div.dispose()
      mus.dispose()
    }
    return { reconstruction, kl, latents }
  }

  /** Reconstructions through the latent means (no sampling noise). */
  reconstruct(images: Uint8Array[], classes: number[]): Uint8Array[] {
    return this.decode(this.encode(images, classes), classes)
  }

  /** The decoder's topology and weights, in TensorFlow.js's layers-model format. */
  async decoderArtifacts(): Promise<tf.io.ModelArtifacts> {
    let saved: tf.io.ModelArtifacts | null = null
    await this.dec.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      }),
    )
    if (!saved) throw new Error('The decoder could not be serialised.')
    return saved
  }

  dispose(): void {
    this.enc.dispose()
    this.dec.dispose()
    this.cls?.dispose()
  }
}

/**
 * A trained VQ-VAE and its prior. A sample's latent is its code grid (grid * grid code indices in
 * raster order, as floats): the prior's draw for the sample's seed at the generation's
 * temperature, so a stored sample regenerates from its seed and decodes from its latent alike.
 */
export class VqGenerator extends Generator {
  private constructor(
    meta: CheckpointMeta,
    enc: tfl.LayersModel,
    dec: tfl.LayersModel,
    cls: tfl.LayersModel | null,
    private readonly codebook: tf.Tensor2D,
    private readonly prior: PixelCnnPrior,
  ) {
    super(meta, enc, dec, cls)
  }

  static fromTensors(meta: CheckpointMeta, groups: Record<string, tf.Tensor[]>): VqGenerator {
    const shape = meta.shape as VqShape
    try {
      if (meta.epoch <= meta.settings.epochs)
        throw new Error(
          `This VQ-VAE checkpoint (epoch ${meta.epoch}) was saved before its prior trained (stage 2 starts after epoch ${meta.settings.epochs}): resume the run to train the prior, then generate.`,
        )
      const enc = vqEncoder(shape)
      const dec = vqDecoder(shape)
      enc.setWeights(groups.encoder)
      dec.setWeights(groups.decoder)
      let cls: tfl.LayersModel | null = null
      if (groups.classifier?.length) {
        cls = classifier(shape)
        cls.setWeights(groups.classifier)
      }
      const prior = new PixelCnnPrior({
        grid: shape.grid,
        codebookSize: shape.codebookSize,
        classes: shape.classes,
        filters: PRIOR_FILTERS,
        layers: PRIOR_LAYERS,
        seed: shape.seed,
      })
      prior.variables.forEach((v, i) => v.assign(groups.prior[i]))
      const codebook = tf.clone(groups.codebook[0]) as tf.Tensor2D
      return new VqGenerator(meta, enc, dec, cls, codebook, prior)
    } finally {
      for (const t of Object.values(groups).flat()) t.dispose()
    }
  }

  private get vq(): VqShape {
    return this.meta.shape as VqShape
  }

  /** n images of a class; the i-th sample's seed is the i-th draw of one stream from `seed`. */
  override sample(
    classIndex: number,
    n: number,
    temperature = 1,
    seed = 1,
  ): { pixels: Uint8Array[]; latents: Float32Array[] } {
    const rand = rng(seed)
    const seeds = Array.from({ length: n }, () => Math.floor(rand() * 2 ** 31))
    const latents = this.latentsForSeeds(classIndex, seeds, temperature)
    return { pixels: this.decode(latents, new Array(n).fill(classIndex)), latents }
  }

  /**
   * The prior's code grid for each seed (see PixelCnnPrior.sample). A generation's temperature
   * scales a CVAE's latent spread, and its default (DEFAULT_TEMPERATURE, 1.6) was tuned for that;
   * here it divides the prior's logits after scaling by that default, so the default draws from
   * the prior as it learned the codes, lower is more typical and higher more varied.
   */
  override latentsForSeeds(
    classIndex: number,
    seeds: number[],
    temperature: number,
  ): Float32Array[] {
    return this.prior
      .sample(classIndex, seeds, temperature / DEFAULT_TEMPERATURE)
      .map((g) => Float32Array.from(g))
  }

  /** Decodes code grids (latents) with given class indices. */
  override decode(latents: Float32Array[], classes: number[], batch = 256): Uint8Array[] {
    return this.decodeGrids(
      latents,
      (from, to) => oneHot(classes.slice(from, to), this.vq.classes),
      batch,
    )
  }

  /**
   * Decodes code grids under soft labels (one vector of class weights per grid): a VQ
   * interpolation across two classes moves the label as a continuous model's does.
   */
  override decodeMixed(latents: Float32Array[], labels: Float32Array[], batch = 256): Uint8Array[] {
    const k = this.vq.classes
    return this.decodeGrids(latents, (from, to) => softLabels(labels.slice(from, to), k), batch)
  }

  private decodeGrids(
    latents: Float32Array[],
    label: (from: number, to: number) => tf.Tensor2D,
    batch: number,
  ): Uint8Array[] {
    const { grid, codeDim } = this.vq
    const cells = grid * grid
    const out: Uint8Array[] = []
    for (let i = 0; i < latents.length; i += batch) {
      const grids = latents.slice(i, i + batch)
      const flat = new Int32Array(grids.length * cells)
      grids.forEach((g, j) => {
        if (g.length !== cells)
          throw new Error(`A code grid has ${g.length} codes; this model's has ${cells}.`)
        flat.set(g, j * cells)
      })
      const px = tf.tidy(() => {
        const codes = tf.reshape(tf.gather(this.codebook, tf.tensor1d(flat, 'int32')), [
          grids.length,
          grid,
          grid,
          codeDim,
        ])
        const y = label(i, i + grids.length)
        const logits = this.dec.apply([codes, y]) as tf.Tensor4D
        return tf.cast(tf.round(tf.mul(tf.sigmoid(logits), 255)), 'int32')
      })
      const data = px.dataSync() as Int32Array
      px.dispose()
      const per = data.length / grids.length
      for (let j = 0; j < grids.length; j++)
        out.push(Uint8Array.from(data.subarray(j * per, (j + 1) * per)))
    }
    return out
  }

  /** The code grid's side and the codebook's size, for the studio's region picker. */
  get codeGrid(): { grid: number; codebookSize: number; codeDim: number } {
    const { grid, codebookSize, codeDim } = this.vq
    return { grid, codebookSize, codeDim }
  }

  /**
   * The encoder's continuous output before quantisation, flattened (grid * grid * codeDim, cell
   * by cell in raster order): what a VQ interpolation walks through, quantising every step.
   */
  encodeContinuous(images: Uint8Array[], batch = 256): Float32Array[] {
    const { size, channels, grid, codeDim } = this.vq
    const per = grid * grid * codeDim
    const out: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const z = tf.tidy(
        () => this.enc.apply(tf.tensor4d(flat, [imgs.length, size, size, channels])) as tf.Tensor,
      )
      const data = z.dataSync() as Float32Array
      z.dispose()
      for (let j = 0; j < imgs.length; j++) out.push(data.slice(j * per, (j + 1) * per))
    }
    return out
  }

  /** Continuous encoder outputs (as encodeContinuous gives them) to code grids: the nearest codes. */
  quantise(zs: Float32Array[]): Float32Array[] {
    const { grid, codeDim } = this.vq
    const cells = grid * grid
    if (!zs.length) return []
    const flat = new Float32Array(zs.length * cells * codeDim)
    zs.forEach((z, j) => {
      if (z.length !== cells * codeDim)
        throw new Error(
          `An encoder output of this model has ${cells * codeDim} numbers, not ${z.length}.`,
        )
      flat.set(z, j * cells * codeDim)
    })
    const codes = tf.tidy(() =>
      nearestCodes(tf.tensor2d(flat, [zs.length * cells, codeDim]), this.codebook).dataSync(),
    )
    return zs.map((_, j) => Float32Array.from(codes.subarray(j * cells, (j + 1) * cells)))
  }

  /**
   * Code grids as their codebook vectors, flattened (grid * grid * codeDim): the quantised
   * encoder output, which the studio's map projects (two grids that differ in codes whose
   * vectors are close are close, as indices never are).
   */
  embedCodes(grids: Float32Array[]): Float32Array[] {
    const { grid, codeDim } = this.vq
    const cells = grid * grid
    if (!grids.length) return []
    const flat = new Int32Array(grids.length * cells)
    grids.forEach((g, j) => flat.set(g, j * cells))
    const v = tf.tidy(() => tf.gather(this.codebook, tf.tensor1d(flat, 'int32')).dataSync())
    const per = cells * codeDim
    return grids.map((_, j) => Float32Array.from(v.subarray(j * per, (j + 1) * per)))
  }

  /**
   * Resamples a rectangular region of a code grid with the prior, one variant per seed (see
   * PixelCnnPrior.resampleRegion); `temperature` divides the prior's logits as it is (1 draws as
   * the prior learned, 0 takes the most likely code).
   */
  resampleRegion(
    codes: ArrayLike<number>,
    classIndex: number,
    region: CodeRegion,
    seeds: number[],
    temperature: number,
  ): Float32Array[] {
    return this.prior
      .resampleRegion(codes, classIndex, region, seeds, temperature)
      .map((g) => Float32Array.from(g))
  }

  /** The prior's most likely grid of a class (argmax code by code): a class's typical grid. */
  typicalGrid(classIndex: number): Float32Array {
    return Float32Array.from(this.prior.sample(classIndex, [1], 0)[0])
  }

  /**
   * The VQ-VAE's bound under each label, as the audit reads a continuous model's: the
   * reconstruction of the image's code grid through the class-conditional decoder, and in place of
   * the KL the prior's -log p(codes | y), the nats the class's prior needs to describe the codes
   * (an image whose codes its label's prior finds unlikely is a suspect). The codes do not depend
   * on the label (the encoder does not take it), so each image is encoded once; the latent is its
   * code grid, as a sample's is.
   */
  override scoreLabels(
    images: Uint8Array[],
    pairs: Int32Array,
    batch = 256,
  ): { reconstruction: Float32Array; kl: Float32Array; latents: Float32Array } {
    const { size, channels, classes: k, grid, codeDim } = this.vq
    const cells = grid * grid
    const kind = this.meta.settings.reconstruction
    const n = pairs.length / 2
    const reconstruction = new Float32Array(n)
    const kl = new Float32Array(n)
    const latents = new Float32Array(n * cells)
    const codesOf = new Map<number, Int32Array>()
    const unique = [...new Set(Array.from({ length: n }, (_, p) => pairs[2 * p]))]
    const grids = this.encode(
      unique.map((i) => images[i]),
      [],
      batch,
    )
    unique.forEach((i, j) => codesOf.set(i, Int32Array.from(grids[j])))
    for (let p0 = 0; p0 < n; p0 += batch) {
      const b = Math.min(batch, n - p0)
      const flat = toUnitFloats(
        Array.from({ length: b }, (_, q) => images[pairs[2 * (p0 + q)]]),
        size * size * channels,
      )
      const codes = new Int32Array(b * cells)
      const labels: number[] = []
      for (let q = 0; q < b; q++) {
        codes.set(codesOf.get(pairs[2 * (p0 + q)])!, q * cells)
        labels.push(pairs[2 * (p0 + q) + 1])
      }
      const [rec, rate] = tf.tidy(() => {
        const x = tf.tensor4d(flat, [b, size, size, channels])
        const y = oneHot(labels, k)
        const idx = tf.tensor3d(codes, [b, grid, grid], 'int32')
        const q = tf.reshape(tf.gather(this.codebook, tf.reshape(idx, [-1])), [
          b,
          grid,
          grid,
          codeDim,
        ])
        const logits = this.dec.apply([q, y]) as tf.Tensor4D
        return [reconstructionPerImage(kind, logits, x), this.prior.gridNll(idx, y)]
      })
      reconstruction.set(rec.dataSync() as Float32Array, p0)
      kl.set(rate.dataSync() as Float32Array, p0)
      rec.dispose()
      rate.dispose()
      for (let q = 0; q < b; q++)
        latents.set(codes.subarray(q * cells, (q + 1) * cells), (p0 + q) * cells)
    }
    return { reconstruction, kl, latents }
  }

  override encodeFull(): never {
    throw new Error('A VQ-VAE has no latent means and variances; its codes are a grid.')
  }

  /** Code grids of images (the encoder's nearest codes); the class is not needed to encode. */
  override encode(images: Uint8Array[], classes: number[], batch = 256): Float32Array[] {
    void classes
    const { size, channels, grid, codeDim } = this.vq
    const cells = grid * grid
    const out: Float32Array[] = []
    for (let i = 0; i < images.length; i += batch) {
      const imgs = images.slice(i, i + batch)
      const flat = toUnitFloats(imgs, size * size * channels)
      const codes = tf.tidy(() => {
        const z = this.enc.apply(tf.tensor4d(flat, [imgs.length, size, size, channels]))
        return nearestCodes(tf.reshape(z as tf.Tensor, [-1, codeDim]), this.codebook).dataSync()
      })
      for (let j = 0; j < imgs.length; j++)
        out.push(Float32Array.from(codes.subarray(j * cells, (j + 1) * cells)))
    }
    return out
  }

  /** The prior's weights (in its variables' order) and the codebook, for the generator export. */
  async priorArtifacts(): Promise<{
    codebook: number[][]
    prior: { shape: number[]; data: Float32Array }[]
  }> {
    return {
      codebook: (await this.codebook.array()) as number[][],
      prior: await Promise.all(
        this.prior.variables.map(async (v) => ({
          shape: v.shape,
          data: (await v.data()) as Float32Array,
        })),
      ),
    }
  }

  override dispose(): void {
    super.dispose()
    this.codebook.dispose()
    this.prior.dispose()
  }
}

/**
 * Each image's reconstruction error summed over its pixels: the cross-entropy on logits (stable
 * form) for 'bce', squared error of the sigmoid otherwise. The audit's per-label scores use it.
 */
function reconstructionPerImage(
  kind: CheckpointMeta['settings']['reconstruction'],
  logits: tf.Tensor4D,
  x: tf.Tensor4D,
): tf.Tensor1D {
  const perPixel =
    kind === 'bce'
      ? tf.sub(tf.add(tf.relu(logits), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))), tf.mul(logits, x))
      : tf.square(tf.sub(tf.sigmoid(logits), x))
  return tf.sum(perPixel, [1, 2, 3]) as tf.Tensor1D
}

/** uint8 images as one float block in [0, 1], image j at j * record. */
export function toUnitFloats(images: Uint8Array[], record: number): Float32Array {
  const flat = new Float32Array(images.length * record)
  images.forEach((im, j) => {
    for (let p = 0; p < im.length; p++) flat[j * record + p] = im[p] / 255
  })
  return flat
}
