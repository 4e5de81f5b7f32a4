import { join } from 'node:path'
import { Core } from '../src/core/core'
import { importAndWait, ok } from '../test/unit/helpers/core'
const home = '/tmp/vqdebug-' + Date.now()
const core = new Core({ home, shell: 'cli' })
const datasetId = (await importAndWait(core, { path: join(import.meta.dirname, '../resources/sample-fashion-mnist') })).summary!.datasetId
const run = await ok(core.call('runs.start', { datasetId, settings: { preset: 'fast', model: 'vqvae', epochs: 2, priorEpochs: 2, batchSize: 32, baseFilters: 16 } }))
await new Promise<void>((resolve) => core.on('run', (e) => { if (e.type === 'status' && e.run.status !== 'running') { console.log(e.run.status, e.run.error); resolve() } }))
await core.close()
