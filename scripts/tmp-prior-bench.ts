import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/accel/backend'
import { PixelCnnPrior } from '../src/core/models/vqvae/prior'
import { oneHot } from '../src/core/models/cvae/model'
await initBackend('wasm')
const p = new PixelCnnPrior({ grid: 7, codebookSize: 64, classes: 10, filters: 64, layers: 4, seed: 1 })
for (const n of [8, 80, 256]) {
  const y = oneHot(new Array(n).fill(1), 10)
  const codes = tf.zeros([n, 7, 7], 'int32') as tf.Tensor3D
  for (let w = 0; w < 3; w++) tf.tidy(() => p.logits(codes, y).dataSync())
  const t0 = performance.now()
  for (let i = 0; i < 20; i++) tf.tidy(() => p.logits(codes, y).dataSync())
  console.log(n, ((performance.now() - t0) / 20).toFixed(2), 'ms per pass')
}
