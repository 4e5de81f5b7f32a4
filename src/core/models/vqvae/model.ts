import type * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { classifier, convLayer, type CvaeShape } from '../cvae/model'

/**
 * A VQ-VAE's geometry. It extends the CVAE's shape so that everything that reads a checkpoint's
 * image geometry (the filters' classifiers, the export) reads it alike; `latentDim` is the length
 * of the latent a sample stores: its code grid, grid * grid code indices in raster order.
 */
export interface VqShape extends CvaeShape {
  model: 'vqvae'
  /** Side of the code grid. */
  grid: number
  /** K: vectors in the codebook. */
  codebookSize: number
  /** D: size of each code vector. */
  codeDim: number
}

/**
 * How many stride-2 stages the encoder takes: halve while the side stays even and the grid at
 * least 7 codes, at most 4 times (28 -> 7, 32 -> 8, 64 -> 8, 128 -> 8). A grid of about 8 x 8 is
 * what the prior can model in the few thousand images a run has; a coarser one loses detail.
 */
export function vqDownsamplings(size: number): number {
  let n = 0
  let s = size
  while (n < 4 && s % 2 === 0 && s / 2 >= 7) {
    s /= 2
    n++
  }
  return n
}

export function vqShape(o: {
  size: number
  channels: number
  classes: number
  baseFilters: number
  codebookSize: number
  codeDim: number
  seed: number
}): VqShape {
  const grid = o.size / 2 ** vqDownsamplings(o.size)
  return {
    model: 'vqvae',
    size: o.size,
    channels: o.channels,
    classes: o.classes,
    baseFilters: o.baseFilters,
    batchNorm: false,
    seed: o.seed,
    grid,
    codebookSize: o.codebookSize,
    codeDim: o.codeDim,
    latentDim: grid * grid,
  }
}

const filtersAt = (base: number, level: number): number => Math.min(256, base * 2 ** level)

const act = (h: tfl.SymbolicTensor): tfl.SymbolicTensor =>
  tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor

/**
 * Encoder: stride-2 convolutions down to the code grid, a 3x3 convolution there, and a 1x1
 * projection to D channels: one continuous vector per grid cell, which the quantiser replaces by
 * its nearest code. Unconditioned: the codes may carry the class, the prior and decoder know it.
 */
export function vqEncoder(o: VqShape): tfl.LayersModel {
  let seed = o.seed
  const init = () => tfl.initializers.heNormal({ seed: seed++ })
  const image = tfl.input({ shape: [o.size, o.size, o.channels], name: 'image' })
  let h = image as tfl.SymbolicTensor
  const n = vqDownsamplings(o.size)
  for (let i = 0; i < n; i++) {
    h = act(
      convLayer({
        filters: filtersAt(o.baseFilters, i),
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        kernelInitializer: init(),
      }).apply(h) as tfl.SymbolicTensor,
    )
  }
  h = act(
    convLayer({
      filters: filtersAt(o.baseFilters, Math.max(0, n - 1)),
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: init(),
    }).apply(h) as tfl.SymbolicTensor,
  )
  const z = convLayer({
    filters: o.codeDim,
    kernelSize: 1,
    name: 'z_e',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }),
  }).apply(h) as tfl.SymbolicTensor
  return tfl.model({ inputs: image, outputs: z, name: 'vq_encoder' })
}

/** Channels of the per-class map the decoder joins to the code grid. */
const CLASS_CHANNELS = 8

/**
 * Decoder: p(x | codes, y). The class enters as a learned map over the grid (a dense layer from
 * the one-hot label, reshaped), joined to the quantised grid; a 3x3 convolution mixes them, then
 * transposed convolutions double it back to full size and the last gives image logits, as the
 * CVAE's decoder does, so the same reconstruction losses apply.
 */
export function vqDecoder(o: VqShape): tfl.LayersModel {
  let seed = o.seed + 1000
  const init = () => tfl.initializers.heNormal({ seed: seed++ })
  const n = vqDownsamplings(o.size)
  const g = o.grid
  const codes = tfl.input({ shape: [g, g, o.codeDim], name: 'codes' })
  const label = tfl.input({ shape: [o.classes], name: 'label' })
  let c = tfl.layers
    .dense({ units: g * g * CLASS_CHANNELS, kernelInitializer: init() })
    .apply(label) as tfl.SymbolicTensor
  c = tfl.layers.reshape({ targetShape: [g, g, CLASS_CHANNELS] }).apply(c) as tfl.SymbolicTensor
  let h = tfl.layers.concatenate().apply([codes, c]) as tfl.SymbolicTensor
  h = act(
    tfl.layers
      .conv2d({
        filters: filtersAt(o.baseFilters, Math.max(0, n - 1)),
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: init(),
      })
      .apply(h) as tfl.SymbolicTensor,
  )
  for (let i = n - 1; i >= 1; i--) {
    h = act(
      tfl.layers
        .conv2dTranspose({
          filters: filtersAt(o.baseFilters, i - 1),
          kernelSize: 4,
          strides: 2,
          padding: 'same',
          kernelInitializer: init(),
        })
        .apply(h) as tfl.SymbolicTensor,
    )
  }
  const last = {
    filters: o.channels,
    name: 'logits',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }),
  }
  const logits = (
    n >= 1
      ? tfl.layers.conv2dTranspose({ ...last, kernelSize: 4, strides: 2, padding: 'same' })
      : tfl.layers.conv2d({ ...last, kernelSize: 3, padding: 'same' })
  ).apply(h) as tfl.SymbolicTensor
  return tfl.model({ inputs: [codes, label], outputs: logits, name: 'vq_decoder' })
}

export interface VqAutoencoder {
  shape: VqShape
  encoder: tfl.LayersModel
  decoder: tfl.LayersModel
  /** The CVAE's classifier, trained on the real images: the generation filters' judge. */
  classifier: tfl.LayersModel
  autoencoderWeights(): tf.Variable[]
  classifierWeights(): tf.Variable[]
  dispose(): void
}

export function vqAutoencoder(shape: VqShape): VqAutoencoder {
  const enc = vqEncoder(shape)
  const dec = vqDecoder(shape)
  const cls = classifier(shape)
  const vars = (m: tfl.LayersModel[]): tf.Variable[] =>
    m.flatMap((x) => x.trainableWeights).map((w) => w.read() as tf.Variable)
  return {
    shape,
    encoder: enc,
    decoder: dec,
    classifier: cls,
    autoencoderWeights: () => vars([enc, dec]),
    classifierWeights: () => vars([cls]),
    dispose: () => {
      enc.dispose()
      dec.dispose()
      cls.dispose()
    },
  }
}
