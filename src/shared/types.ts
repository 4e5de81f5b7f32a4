/** Plain data types shared by main, preload, renderer and CLI. No runtime imports here. */

export type ChannelMode = 'gray' | 'rgb' | 'rgba'

/** Channels per pixel of a channel mode. */
export const channelCount = (mode: ChannelMode): 1 | 3 | 4 =>
  mode === 'gray' ? 1 : mode === 'rgb' ? 3 : 4
export type FitMode = 'cover' | 'contain' | 'fill'
export type DatasetStatus = 'importing' | 'ready' | 'incomplete'

export interface ClassInfo {
  id: number
  name: string
  count: number
  /** Of `count`, the images held out for evaluation (0 before the dataset is first used). */
  heldOut: number
}

export interface DatasetSummary {
  id: number
  name: string
  root: string
  size: number
  channels: ChannelMode
  fit: FitMode
  status: DatasetStatus
  imageCount: number
  skippedCount: number
  classCount: number
  /** Largest class count divided by the smallest (0 when there are no images). */
  imbalanceRatio: number
  classes: ClassInfo[]
  createdAt: number
  updatedAt: number
  importedAt: number | null
  lastError: string | null
  /** Up to four image ids for a card preview. */
  previewImageIds: number[]
  /** Images relabelled and excluded by the person (image_overrides); class counts include them. */
  overrides: { relabelled: number; excluded: number }
}

export interface ImageItem {
  id: number
  classId: number
  relPath: string
  width: number
  height: number
}

export interface SkippedFile {
  path: string
  reason: string
}

export interface ImportSummary {
  datasetId: number
  name: string
  root: string
  size: number
  channels: ChannelMode
  classes: { name: string; count: number }[]
  /** Images in the dataset after this import. */
  imported: number
  added: number
  changed: number
  removed: number
  unchanged: number
  /** Files with an image extension that could not be used, with the reason. */
  skipped: SkippedFile[]
  /** Files without an image extension, left alone. */
  ignored: number
  cancelled: boolean
  seconds: number
}

export type JobKind = 'import'
export type JobPhase = 'starting' | 'scanning' | 'decoding' | 'finishing'

export interface JobProgress {
  jobId: string
  kind: JobKind
  datasetId: number | null
  label: string
  phase: JobPhase
  done: number
  total: number
  /** Items per second over the recent window. */
  rate: number
  /** Seconds left, or null while unknown. */
  etaSeconds: number | null
  startedAt: number
}

export type JobEvent =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; jobId: string; kind: JobKind; result: ImportSummary }
  | { type: 'cancelled'; jobId: string; kind: JobKind; result: ImportSummary | null }
  | { type: 'failed'; jobId: string; kind: JobKind; error: { code: string; message: string } }

export interface AppInfo {
  version: string
  home: string
  shell: 'electron' | 'web' | 'cli'
  canPickFolder: boolean
  sample: { path: string; available: boolean }
}

/** What an import job is asked to do: a folder and, optionally, how to store its images. */
export interface ImportRequest {
  path: string
  name?: string
  size?: number
  channels?: ChannelMode
  fit?: FitMode
}
