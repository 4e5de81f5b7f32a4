/** Exporting a dataset with its accepted synthetic samples, and exporting a trained generator. */

export type ExportInclude = 'accepted' | 'real' | 'synthetic'
export type ExportStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted'

export interface ExportOptions {
  datasetId: number
  out: string
  /** accepted: real images plus accepted synthetic samples; real or synthetic: only those. */
  include: ExportInclude
  /** train/val/test fractions; real images are split (stratified, seeded), synthetic go to train. */
  splits: [number, number, number] | null
  seed: number
  zip: boolean
  /** Allow a non-empty destination; nothing there is ever overwritten. */
  merge: boolean
  /** Generations whose accepted samples are included (all of the dataset's when null). */
  generationIds: number[] | null
  /** Synthetic images upscaled to this many pixels a side (null: the dataset's size). */
  upscale: { size: number; method: 'nearest' | 'lanczos3' } | null
}

export interface ExportClassCount {
  className: string
  folder: string
  real: number
  synthetic: number
}

export interface ExportPreview {
  classes: ExportClassCount[]
  real: number
  synthetic: number
  generations: { id: number; runId: number; accepted: number }[]
}

export interface ExportSummary {
  id: number
  datasetId: number
  status: ExportStatus
  options: ExportOptions
  classes: ExportClassCount[]
  files: number
  bytes: number
  zipPath: string | null
  error: string | null
  createdAt: number
  finishedAt: number | null
}

export interface ExportProgressInfo {
  exportId: number
  phase: 'copying' | 'report' | 'zipping'
  done: number
  total: number
  rate: number
  etaSeconds: number | null
}

export type ExportEvent =
  { type: 'progress'; progress: ExportProgressInfo } | { type: 'status'; export: ExportSummary }
