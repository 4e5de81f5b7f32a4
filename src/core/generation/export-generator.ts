/**
 * The trained generator as files anyone can load outside the app: the decoder as a TensorFlow.js
 * layers model (model.json + weights), and synthfold-generator.json with the class names, latent
 * size, image geometry and the fitted per-class latent prior used for sampling.
 */
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Generator } from './generator'
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
