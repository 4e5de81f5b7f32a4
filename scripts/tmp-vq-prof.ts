import * as tf from '@tensorflow/tfjs-core'
import { join } from 'node:path'
import { Core } from '../src/core/core'
import { importAndWait } from '../test/unit/helpers/core'
import { initBackend } from '../src/core/accel/backend'
import { loadTrainingData } from '../src/core/training/data'
import { VqTrainer } from '../src/core/training/vq-trainer'
import { Trainer } from '../src/core/training/trainer'
import { resolveSettings } from '../src/shared/train-settings'
const home = '/tmp/vqprof-' + Date.now()
const core = new Core({ home, shell: 'cli' })
const datasetId = (await importAndWait(core, { path: join(import.meta.dirname, '../resources/sample-fashion-mnist') })).summary!.datasetId
const data = loadTrainingData(core.db, home, datasetId, 'include')
await core.close()
await initBackend('wasm')
for (const model of ['cvae', 'vqvae'] as const) {
  const s = resolveSettings({ preset: 'balanced', model, epochs: 1, priorEpochs: 1 }, { size: 28, channels: 1, imageCount: data.count })
  const t = model === 'vqvae' ? new VqTrainer(data, s) : new Trainer(data, s)
  await t.trainEpoch(() => {}, () => false)
  const idx = Array.from({ length: 64 }, (_, i) => i)
  const step = model === 'vqvae' ? () => (t as any).autoencoderStep(idx, 1) : () => (t as any).step(idx, 1, 1)
  await step()
  const t0 = performance.now()
  for (let i = 0; i < 5; i++) await step()
  console.log(model, ((performance.now() - t0) / 5).toFixed(1), 'ms/step (64 images)')
  const info = await tf.profile(async () => { await step() })
  const by: Record<string, number> = {}
  for (const k of info.kernels) by[k.name] = (by[k.name] ?? 0) + (k.kernelTimeMs as number)
  console.log(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '))
}
