import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'

export interface CvaeShape {
  size: number
  channels: number
  classes: number
  latentDim: number
  baseFilters: number
  batchNorm: boolean
  seed: number
}

/**
 * How many stride-2 stages fit: halve while the side stays even and at least 4 px, at most 4 times
 * (28 -> 7 after two, 32 -> 4 after three, 64 and 128 after four).
 */
export function downsamplings(size: number): number {
  let n = 0
  let s = size
  while (n < 4 && s % 2 === 0 && s / 2 >= 4) {
    s /= 2
    n++
  }
  return n
}

const filtersAt = (base: number, level: number): number => Math.min(256, base * 2 ** level)

/** Optional batch norm, then leaky ReLU: what follows every conv stage. */
function normAct(h: tfl.SymbolicTensor, batchNorm: boolean): tfl.SymbolicTensor {
  const normed = batchNorm ? (tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor) : h
  return tfl.layers.leakyReLU({ alpha: 0.2 }).apply(normed) as tfl.SymbolicTensor
}

/**
 * A conv layer whose gradient computes only what is needed. tfjs-layers runs every Conv2D as a
 * fused convolution, whose custom gradient always computes the input's gradient too; for a layer
 * over the image (the encoder's and the classifier's first) that is a whole transposed convolution
 * per step thrown away. While gradients are recorded this runs the plain convolution and bias add
 * instead, whose gradients tfjs computes per input, on demand; inference keeps the fused kernel.
 */
export function convLayer(args: Parameters<typeof tfl.layers.conv2d>[0]): tfl.layers.Layer {
  const layer = tfl.layers.conv2d(args)
  const conv = layer as unknown as {
    kernel: tfl.LayerVariable
    bias: tfl.LayerVariable | null
    strides: [number, number]
    padding: 'same' | 'valid'
    dilationRate: [number, number]
    activation: { getClassName(): string }
    call(inputs: tf.Tensor | tf.Tensor[], kwargs: object): tf.Tensor
  }
  const fused = conv.call.bind(layer)
  conv.call = (inputs, kwargs) => {
    if (tf.engine().state.gradientDepth === 0 || conv.activation.getClassName() !== 'linear')
      return fused(inputs, kwargs)
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D
      const y = tf.conv2d(
        x,
        conv.kernel.read() as tf.Tensor4D,
        conv.strides,
        conv.padding,
        'NHWC',
        conv.dilationRate,
      )
      return conv.bias ? tf.add(y, conv.bias.read()) : y
    })
  }
  return layer
}

/**
 * Encoder: a CNN over the image, with the class one-hot joined to the flattened features, giving
 * the mean and log-variance of q(z | x, y). Conditioning the encoder too lets z spend its capacity
 * on style rather than on the class.
 */
export function encoder(o: CvaeShape): tfl.LayersModel {
  let seed = o.seed
  const init = () => tfl.initializers.heNormal({ seed: seed++ })
  const image = tfl.input({ shape: [o.size, o.size, o.channels], name: 'image' })
  const label = tfl.input({ shape: [o.classes], name: 'label' })
  let h = image as tfl.SymbolicTensor
  const n = downsamplings(o.size)
  for (let i = 0; i < Math.max(1, n); i++) {
    h = convLayer({
      filters: filtersAt(o.baseFilters, i),
      kernelSize: 3,
      strides: n === 0 ? 1 : 2,
      padding: 'same',
      kernelInitializer: init(),
      useBias: !o.batchNorm,
    }).apply(h) as tfl.SymbolicTensor
    h = normAct(h, o.batchNorm)
  }
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor
  h = tfl.layers.concatenate().apply([h, label]) as tfl.SymbolicTensor
  h = tfl.layers
    .dense({ units: 256, activation: 'relu', kernelInitializer: init() })
    .apply(h) as tfl.SymbolicTensor
  const mu = tfl.layers
    .dense({
      units: o.latentDim,
      name: 'mu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }),
    })
    .apply(h)
  const logvar = tfl.layers
    .dense({
      units: o.latentDim,
      name: 'logvar',
      kernelInitializer: tfl.initializers.zeros(),
      biasInitializer: tfl.initializers.zeros(),
    })
    .apply(h)
  return tfl.model({
    inputs: [image, label],
    outputs: [mu as tfl.SymbolicTensor, logvar as tfl.SymbolicTensor],
    name: 'encoder',
  })
}

/**
 * Decoder: p(x | z, y). z and the class one-hot go through a dense layer to a small feature map,
 * then transposed convolutions double it back to full size; a sigmoid gives pixels in [0, 1].
 */
export function decoder(o: CvaeShape): tfl.LayersModel {
  let seed = o.seed + 1000
  const init = () => tfl.initializers.heNormal({ seed: seed++ })
  const n = downsamplings(o.size)
  const start = o.size / 2 ** n
  const top = filtersAt(o.baseFilters, Math.max(0, n - 1))
  const z = tfl.input({ shape: [o.latentDim], name: 'z' })
  const label = tfl.input({ shape: [o.classes], name: 'label' })
  let h = tfl.layers.concatenate().apply([z, label]) as tfl.SymbolicTensor
  h = tfl.layers
    .dense({ units: start * start * top, activation: 'relu', kernelInitializer: init() })
    .apply(h) as tfl.SymbolicTensor
  h = tfl.layers.reshape({ targetShape: [start, start, top] }).apply(h) as tfl.SymbolicTensor
  for (let i = n - 1; i >= 1; i--) {
    h = tfl.layers
      .conv2dTranspose({
        filters: filtersAt(o.baseFilters, i - 1),
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        kernelInitializer: init(),
        useBias: !o.batchNorm,
      })
      .apply(h) as tfl.SymbolicTensor
    h = normAct(h, o.batchNorm)
  }
  // The last stage maps straight to image logits at full size (no wide full-resolution layer, which
  // would cost more than the rest of the network together). The loss applies the sigmoid itself
  // (numerically stable BCE); sampling applies it too.
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
  return tfl.model({ inputs: [z, label], outputs: logits, name: 'decoder' })
}

/**
 * A small CNN trained on the real images alongside the CVAE. Its verdict on decoded samples is an
 * extra loss for the decoder (so the decoder cannot ignore the label and let z carry the class),
 * and later the app's own class-confidence score for generated images.
 */
export function classifier(
  o: Pick<CvaeShape, 'size' | 'channels' | 'classes' | 'seed'>,
): tfl.LayersModel {
  let seed = o.seed + 2000
  const init = () => tfl.initializers.heNormal({ seed: seed++ })
  const image = tfl.input({ shape: [o.size, o.size, o.channels], name: 'image' })
  let h = image as tfl.SymbolicTensor
  const n = Math.max(1, downsamplings(o.size))
  for (let i = 0; i < n; i++) {
    h = convLayer({
      filters: Math.min(64, 16 * 2 ** i),
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: init(),
    }).apply(h) as tfl.SymbolicTensor
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor
  }
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor
  h = tfl.layers.dropout({ rate: 0.3, seed: seed++ }).apply(h) as tfl.SymbolicTensor
  const logits = tfl.layers
    .dense({
      units: o.classes,
      name: 'class_logits',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }),
    })
    .apply(h) as tfl.SymbolicTensor
  return tfl.model({ inputs: image, outputs: logits, name: 'classifier' })
}

export interface Cvae {
  shape: CvaeShape
  encoder: tfl.LayersModel
  decoder: tfl.LayersModel
  classifier: tfl.LayersModel
  /** Encoder and decoder variables (what the VAE loss trains). */
  vaeWeights(): tf.Variable[]
  classifierWeights(): tf.Variable[]
  dispose(): void
}

export function cvae(shape: CvaeShape): Cvae {
  const enc = encoder(shape)
  const dec = decoder(shape)
  const cls = classifier(shape)
  const vars = (m: tfl.LayersModel[]): tf.Variable[] =>
    m.flatMap((x) => x.trainableWeights).map((w) => w.read() as tf.Variable)
  return {
    shape,
    encoder: enc,
    decoder: dec,
    classifier: cls,
    vaeWeights: () => vars([enc, dec]),
    classifierWeights: () => vars([cls]),
    dispose: () => {
      enc.dispose()
      dec.dispose()
      cls.dispose()
    },
  }
}

/**
 * Float one-hot rows for class indices. tf.oneHot refuses a depth of 1, and a dataset of a single
 * class is a valid one (its label input is then a column of ones).
 */
export function oneHot(labels: ArrayLike<number>, depth: number): tf.Tensor2D {
  const rows = new Float32Array(labels.length * depth)
  for (let i = 0; i < labels.length; i++) rows[i * depth + labels[i]] = 1
  return tf.tensor2d(rows, [labels.length, depth])
}

/** z = mu + sigma * eps: the reparameterisation that lets gradients flow through sampling. */
export function reparameterize(mu: tf.Tensor2D, logvar: tf.Tensor2D, seed?: number): tf.Tensor2D {
  const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', seed)
  return tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps))
}
