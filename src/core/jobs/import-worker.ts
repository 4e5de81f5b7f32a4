/** Worker-thread entry: runs one import off the main event loop, with its own database connection. */
import { parentPort, workerData } from 'node:worker_threads'
import { toApiError } from '../../shared/result'
import { openDatabase } from '../db/database'
import { runImport } from '../datasets/import'
import type { FromImportWorker, ImportWorkerData, ToImportWorker } from './import-protocol'

const port = parentPort!
const data = workerData as ImportWorkerData
let stop = false
port.on('message', (m: ToImportWorker) => {
  if (m.type === 'cancel') stop = true
})
const post = (m: FromImportWorker): void => port.postMessage(m)

const db = openDatabase(data.dbPath)
runImport(db, data.home, data.request, {
  progress: (phase, done, total) => post({ type: 'progress', phase, done, total }),
  shouldStop: () => stop,
  onDataset: (datasetId) => post({ type: 'dataset', datasetId }),
})
  .then((summary) => post({ type: 'done', summary }))
  .catch((err: unknown) => post({ type: 'error', error: toApiError(err) }))
  .finally(() => {
    db.close()
    port.close()
  })
