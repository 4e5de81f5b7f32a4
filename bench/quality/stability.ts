// bench/quality/stability.ts: does a setting train stably on larger images? The first N
// Fashion-MNIST training images upscaled (nearest neighbour) to S px with C channels (the second
// channel inverted, so colour images are not gray copies), E epochs in this process; prints each
// epoch's losses. A loss or KL that jumps several-fold between epochs is the instability this checks.
// Usage: S=128 C=3 N=500 E=4 node --import tsx bench/quality/stability.ts ['{"learningRate":0.002}']
import { initBackend } from '../../src/core/accel/backend'
import type { TrainingData } from '../../src/core/training/data'
import { Trainer } from '../../src/core/training/trainer'
import { resolveSettings } from '../../src/shared/train-settings'
import { loadFashionMnist } from '../../scripts/fashion-mnist.mjs'

await initBackend('auto')
const S = Number(process.env.S ?? 64)
const C = Number(process.env.C ?? 3)
const N = Number(process.env.N ?? 500)
const E = Number(process.env.E ?? 4)
const train = loadFashionMnist('train')
const per = S * S * C
const data: TrainingData = {
  size: S,
  channels: C,
  classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
  count: N,
  pixels: new Uint8Array(N * per),
  labels: new Int32Array(N),
  ids: Int32Array.from({ length: N }, (_, i) => i + 1),
}
for (let i = 0; i < N; i++) {
  const p = train.pixels(i)
  data.labels[i] = train.label(i)
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const v = p[Math.floor((y * 28) / S) * 28 + Math.floor((x * 28) / S)]
      for (let c = 0; c < C; c++) data.pixels[i * per + (y * S + x) * C + c] = c === 1 ? 255 - v : v
    }
}
const settings = resolveSettings(JSON.parse(process.argv[2] ?? '{}') as object, {
  size: S,
  channels: C,
  imageCount: N,
})
console.log(`${S} px, ${C} channels, ${N} images, learning rate ${settings.learningRate}`)
const trainer = new Trainer(data, settings)
for (let e = 0; e < E; e++) {
  const m = await trainer.trainEpoch(
    () => {},
    () => false,
  )
  if (!m) break
  const f = (v: number | null): string => (v === null ? '-' : v.toFixed(1))
  console.log(
    `epoch ${e + 1}: loss ${f(m.loss)}, reconstruction ${f(m.reconstruction)}, KL ${f(m.kl)}, validation loss ${f(m.valLoss)}`,
  )
}
