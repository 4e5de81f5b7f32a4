/**
 * The trained generator as files anyone can load outside the app: the decoder as a TensorFlow.js
 * layers model (model.json + weights), and synthfold-generator.json with the class names, latent
 * size, image geometry and the fitted per-class latent prior used for sampling.
 */
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Generator, VqGenerator } from './generator'
import type { VqShape } from '../models/vqvae/model'
import { PRIOR_EMBEDDING, PRIOR_FILTERS, PRIOR_LAYERS } from '../models/vqvae/prior'
import { ExportError, writeNew } from '../export/safe-write'

export async function exportGenerator(checkpointDir: string, out: string): Promise<string[]> {
  const existing = await readdir(out).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? [] : Promise.reject(e),
  )
  if (existing.length)
    throw new ExportError(
      'not_empty',
      `${out} is not empty; choose a new or empty folder (Synthfold never overwrites files).`,
    )
  await mkdir(out, { recursive: true })
  const gen = Generator.load(checkpointDir)
  try {
    if (gen instanceof VqGenerator) return await exportVq(gen, out)
    const a = await gen.decoderArtifacts()
    const weights = Buffer.from(a.weightData as ArrayBuffer)
    const model = {
      format: 'layers-model',
      generatedBy: 'Synthfold',
      convertedBy: null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['decoder.weights.bin'], weights: a.weightSpecs }],
    }
    const { shape, classNames, latentStats, epoch, settings } = gen.meta
    const info = {
      format: 'synthfold-generator/1',
      model: 'model.json',
      inputs: [
        { name: 'z', shape: [null, shape.latentDim] },
        { name: 'label', shape: [null, shape.classes], encoding: 'one-hot, class order below' },
      ],
      output: {
        shape: [null, shape.size, shape.size, shape.channels],
        meaning: 'logits: apply a sigmoid for pixels in [0, 1]',
      },
      classNames,
      latentDim: shape.latentDim,
      imageSize: shape.size,
      channels: shape.channels,
      sampling:
        'z = mean[c] + temperature * (chol[c] @ eps when present, else std[c] * eps), eps ~ N(0, I)',
      latentPrior: latentStats ?? null,
      trainedEpochs: epoch,
      settings,
    }
    const readme = `# Synthfold generator

Load the decoder with TensorFlow.js and draw images of class \`c\`:

\`\`\`js
const tf = require('@tensorflow/tfjs-node')
const info = require('./synthfold-generator.json')
const decoder = await tf.loadLayersModel('file://' + __dirname + '/model.json')
const c = info.classNames.indexOf('${classNames[0].replace(/[`'\\\\]/g, '')}')
const z = tf.add(tf.tensor2d([info.latentPrior?.mean[c] ?? new Array(info.latentDim).fill(0)]),
  tf.mul(tf.randomNormal([1, info.latentDim]), tf.tensor2d([info.latentPrior?.std[c] ?? new Array(info.latentDim).fill(1)])))
const label = tf.tensor2d([info.classNames.map((_, i) => (i === c ? 1 : 0))])
const pixels = tf.sigmoid(decoder.predict([z, label])) // [1, ${shape.size}, ${shape.size}, ${shape.channels}] in [0, 1]
\`\`\`
`
    const files: [string, Buffer][] = [
      ['decoder.weights.bin', weights],
      ['model.json', Buffer.from(JSON.stringify(model))],
      ['synthfold-generator.json', Buffer.from(JSON.stringify(info, null, 2))],
      ['README.md', Buffer.from(readme)],
    ]
    for (const [name, body] of files) await writeNew(join(out, name), body)
    return files.map(([name]) => join(out, name))
  } finally {
    gen.dispose()
  }
}

/**
 * A VQ-VAE's generator: the decoder (code vectors and label in, logits out) as a layers model, the
 * codebook, and the PixelCNN prior's weights in synthfold-generator.json's order, with the
 * prior's architecture written out: sampling draws a code grid from the prior in raster order,
 * looks each code up in the codebook, and decodes the grid.
 */
async function exportVq(gen: VqGenerator, out: string): Promise<string[]> {
  const a = await gen.decoderArtifacts()
  const { codebook, prior } = await gen.priorArtifacts()
  const shape = gen.meta.shape as VqShape
  const { classNames, epoch, settings } = gen.meta
  const model = {
    format: 'layers-model',
    generatedBy: 'Synthfold',
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['decoder.weights.bin'], weights: a.weightSpecs }],
  }
  const priorBin = Buffer.concat(prior.map((p) => Buffer.from(new Float32Array(p.data).buffer)))
  const names = ['embedding', 'first.kernel', 'first.bias', 'first.classBias']
  for (let i = 0; i < PRIOR_LAYERS; i++)
    names.push(`block${i}.kernel`, `block${i}.bias`, `block${i}.classBias`)
  names.push('head1.kernel', 'head1.bias', 'head2.kernel', 'head2.bias')
  const info = {
    format: 'synthfold-generator/1',
    family: 'vqvae',
    model: 'model.json',
    inputs: [
      {
        name: 'codes',
        shape: [null, shape.grid, shape.grid, shape.codeDim],
        meaning: 'codebook rows of a code grid',
      },
      { name: 'label', shape: [null, shape.classes], encoding: 'one-hot, class order below' },
    ],
    output: {
      shape: [null, shape.size, shape.size, shape.channels],
      meaning: 'logits: apply a sigmoid for pixels in [0, 1]',
    },
    classNames,
    imageSize: shape.size,
    channels: shape.channels,
    grid: shape.grid,
    codebook,
    prior: {
      weights: 'prior.weights.bin',
      tensors: prior.map((p, i) => ({ name: names[i], shape: p.shape })),
      architecture:
        `PixelCNN over the ${shape.grid}x${shape.grid} code grid in raster order: codes one-hot times embedding [K, ${PRIOR_EMBEDDING}]; ` +
        `a mask-A convolution (first.kernel, 'same', stride 1; the centre and everything after it in raster order masked) plus first.bias + label @ first.classBias; ` +
        `${PRIOR_LAYERS} residual blocks h += maskB_conv3x3(relu(h)) + bias + label @ classBias (mask B keeps the centre); ` +
        `then logits = conv1x1(relu(conv1x1(relu(h)) + head1.bias)) + head2.bias, ${shape.codebookSize} per position, ${PRIOR_FILTERS} hidden channels.`,
      sampling:
        'for each position in raster order: logits / temperature, softmax, draw a code; then codebook rows -> decoder',
    },
    trainedEpochs: epoch,
    settings,
  }
  const readme = `# Synthfold generator (VQ-VAE)

A VQ-VAE's decoder (\`model.json\`), its codebook and its class-conditional PixelCNN prior
(\`prior.weights.bin\`, float32 tensors in the order \`synthfold-generator.json\` lists, with the
architecture written out there). To draw an image of class \`c\`: sample a ${shape.grid}x${shape.grid}
grid of code indices from the prior position by position, replace each by its codebook row, and run
the decoder on that grid and the one-hot label; a sigmoid of its output gives pixels in [0, 1].
`
  const files: [string, Buffer][] = [
    ['decoder.weights.bin', Buffer.from(a.weightData as ArrayBuffer)],
    ['model.json', Buffer.from(JSON.stringify(model))],
    ['prior.weights.bin', priorBin],
    ['synthfold-generator.json', Buffer.from(JSON.stringify(info, null, 2))],
    ['README.md', Buffer.from(readme)],
  ]
  for (const [name, body] of files) await writeNew(join(out, name), body)
  return files.map(([name]) => join(out, name))
}
