import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/accel/backend'
import { PixelCnnPrior } from '../src/core/models/vqvae/prior'
import { oneHot } from '../src/core/models/cvae/model'
await initBackend('wasm')
const p = new PixelCnnPrior({ grid: 7, codebookSize: 64, classes: 10, filters: 64, layers: 4, seed: 1 })
const n = 80
const y = oneHot(new Array(n).fill(1), 10)
const codes = tf.zeros([n, 7, 7], 'int32') as tf.Tensor3D
tf.tidy(() => p.logits(codes, y).dataSync())
const info = await tf.profile(() => tf.tidy(() => { p.logits(codes, y).dataSync() }))
const by: Record<string, number> = {}
for (const k of info.kernels) by[k.name] = (by[k.name] ?? 0) + (k.kernelTimeMs as number)
console.log(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 10))
