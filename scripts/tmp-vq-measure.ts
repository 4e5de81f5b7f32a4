import { join } from 'node:path'
import { Core } from '../src/core/core'
import { importAndWait, ok } from '../test/unit/helpers/core'
const home = '/tmp/vqmeasure'
const core = new Core({ home, shell: 'cli' })
const datasetId = (await importAndWait(core, { path: join(import.meta.dirname, '../resources/sample-fashion-mnist') })).summary!.datasetId
const t0 = Date.now()
const run = await ok(core.call('runs.start', { datasetId, settings: { preset: 'balanced', model: 'vqvae' } }))
console.log(JSON.stringify(run.settings))
core.on('run', (e) => { if (e.type === 'epoch') console.log(JSON.stringify(e.metrics), ((Date.now() - t0) / 1000).toFixed(0)) })
await new Promise<void>((resolve) => core.on('run', (e) => { if (e.type === 'status' && e.run.status !== 'running') { console.log(e.run.status, e.run.error, JSON.stringify(e.run.forecast)); resolve() } }))
console.log('seconds', (Date.now() - t0) / 1000, 'dir', home)
await core.close()
