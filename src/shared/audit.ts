/** Audits of a dataset through a run (outliers, likely label errors) and the person's overrides. */

/** One relabel or exclusion of an image, as the person made it. */
export interface OverrideItem {
  imageId: number
  /** Relative to the dataset's root folder as imported. */
  path: string
  /** The class of the image's folder. */
  originalClass: string
  /** The class it counts as now (the original one unless relabelled). */
  class: string
  excluded: boolean
  updatedAt: number
}

export type AuditStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'

export interface AuditSummary {
  id: number
  runId: number
  datasetId: number
  status: AuditStatus
  checkpoint: { kind: 'best' | 'last'; epoch: number } | null
  /** The run's classes, in the order of the stored per-class probabilities. */
  classNames: string[]
  /** Which scores the audit combined (see src/core/audit/scores.ts). */
  method: string | null
  images: number
  seconds: number | null
  error: string | null
  createdAt: number
  finishedAt: number | null
  /** Usable images of the dataset the audit has no scores for (imported since): audit again. */
  missing: number
}

/** One image of an audit, read against its current label. */
export interface AuditImage {
  imageId: number
  path: string
  /** Its current class (after any relabel). */
  class: string
  originalClass: string
  excluded: boolean
  heldOut: boolean
  reconstructionError: number
  /** Higher is more unusual for the dataset (under its best-fitting class). */
  anomalyScore: number
  suggestedClass: string
  /** Higher is more likely mislabelled: the best other class's probability minus its own's. */
  labelErrorScore: number
  /** Probability of its current class. */
  labelProbability: number
  /** Nearest images of the suggested class (ids), nearest first. */
  nearest: number[]
}

export type AuditSort = 'label-error' | 'anomaly'

export interface AuditProgress {
  auditId: number
  runId: number
  phase: 'scoring' | 'neighbours'
  done: number
  of: number
  etaSeconds: number | null
}

export type AuditEvent =
  { type: 'status'; audit: AuditSummary } | { type: 'progress'; progress: AuditProgress }
