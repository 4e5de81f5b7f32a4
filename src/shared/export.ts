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
  /**
   * match: every real image is written at the export's one size (the upscaled size, else the
   * dataset's), resized when its source is another size, so a DataLoader can batch the tree;
   * as-is: real images are copied as they are, whatever their size (mixed sizes are reported).
   */
  realImages: 'match' | 'as-is'
  /** The manifest's format: one metadata file per split folder (or at the root without splits). */
  metadata: 'csv' | 'jsonl'
  /**
   * Write `class_weights.json` beside the metadata: per class, total / (classes × class count)
   * over the exported training images (scikit-learn's "balanced"). Absent: false.
   */
  classWeights?: boolean
}

/** Real images of other sizes than the synthetic ones (largest side, px), when an export mixes them. */
export interface MixedSizes {
  real: number[]
  synthetic: number
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
  /** Every generation of the dataset, chosen or not, to pick from. */
  available: { id: number; runId: number; accepted: number }[]
  /** Null when every image of the export has one size. */
  mixedSizes: MixedSizes | null
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
