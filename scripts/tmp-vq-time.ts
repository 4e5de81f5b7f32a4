import { join } from 'node:path'
import { Core } from '../src/core/core'
import { importAndWait } from '../test/unit/helpers/core'
import { initBackend } from '../src/core/accel/backend'
import { loadTrainingData } from '../src/core/training/data'
import { VqTrainer } from '../src/core/training/vq-trainer'
import { writePreviews } from '../src/core/training/preview'
import { resolveSettings } from '../src/shared/train-settings'
const home = '/tmp/vqtime-' + Date.now()
const core = new Core({ home, shell: 'cli' })
const datasetId = (await importAndWait(core, { path: join(import.meta.dirname, '../resources/sample-fashion-mnist') })).summary!.datasetId
const data = loadTrainingData(core.db, home, datasetId, 'include')
await core.close()
console.log(await initBackend('wasm'))
const s = resolveSettings({ preset: 'fast', model: 'vqvae', epochs: 1, priorEpochs: 2, batchSize: 32, baseFilters: 16, vqCodebookSize: 32 }, { size: 28, channels: 1, imageCount: data.count })
const t = new VqTrainer(data, s)
for (let e = 0; e < 3; e++) {
  const t0 = performance.now()
  const m = await t.trainEpoch(() => {}, () => false)
  console.log(e, m?.stage, m?.loss.toFixed(3), ((performance.now() - t0) / 1000).toFixed(2), 's')
  const t1 = performance.now()
  await writePreviews(t, home, 1)
  console.log('preview', ((performance.now() - t1) / 1000).toFixed(2), 's')
}
