/** What an export writes: its files, the manifests written last, and how it reports progress. */
export interface ExportFile {
  /** Path relative to the export root, forward slashes, already made of safe names. */
  rel: string
  /**
   * Where the bytes come from: a source file copied byte for byte (its SHA-256 must match
   * `sha256` when given, else ExportError 'source_changed'), or bytes produced on demand.
   */
  source: { copy: string; sha256?: string | null } | { bytes: () => Promise<Buffer> }
}

export interface WrittenFile {
  rel: string
  sha256: string
  bytes: number
}

export interface FinalFile {
  rel: string
  /** Called after every data file is in place, with all of them, in `files` order. */
  bytes: (written: WrittenFile[]) => Promise<Buffer> | Buffer
}

export interface ExportProgress {
  done: number
  total: number
  bytes: number
  /** Files per second. */
  rate: number
  etaSeconds: number | null
}

export interface WriteExportOptions {
  root: string
  files: ExportFile[]
  /** Written last, in this order, each with writeNew (metadata.jsonl, then metadata.csv last). */
  finalFiles: FinalFile[]
  /**
   * `new`: the root must be missing or empty. `merge`: the root may hold other files, but if any
   * path of the export is taken the export is refused up front, with nothing written (a
   * renamed file would no longer match what the manifest or a user expects). `resume`: finish
   * the unfinished export of the same job in the root.
   */
  mode: 'new' | 'merge' | 'resume'
  onProgress?: (p: ExportProgress) => void
  /** Asked before each file; true stops the export with ExportError 'cancelled'. */
  shouldStop?: () => boolean
  /** Files written at once (default 4): overlaps one file's flush with the next one's reading. */
  concurrency?: number
  /** Anything else that defines the job (settings, seeds): resume refuses a different one. */
  fingerprint?: string
}
