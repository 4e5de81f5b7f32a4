import type { ApiError } from '../../shared/result'
import type { ImportSummary, JobPhase } from '../../shared/types'
import type { ImportRequest } from '../../shared/types'

/** Messages between the job manager (main) and an import worker thread. */
export type ImportWorkerData = { dbPath: string; home: string; request: ImportRequest }

export type ToImportWorker = { type: 'cancel' }

export type FromImportWorker =
  | { type: 'dataset'; datasetId: number }
  | { type: 'progress'; phase: JobPhase; done: number; total: number }
  | { type: 'done'; summary: ImportSummary }
  | { type: 'error'; error: ApiError }
