/**
 * The manifest of an export: one row per image, as `metadata.csv` (what Hugging Face `datasets`'
 * `imagefolder` loader and pandas read) and `metadata.jsonl` (exact types, no CSV quirks).
 *
 * Layout choice: one `metadata.csv` at the export root, `file_name` relative to it. With splits
 * the paths start with the split (`train/cat/x.png`); Hugging Face accepts a root metadata file
 * whose `file_name`s reach into the split folders, so one file describes the whole export and
 * the images stay in the `<split>/<class>/` layout torchvision's `ImageFolder` expects.
 */
import type { Split } from './splits'

export interface ManifestRow {
  /** Relative to the export root, forward slashes: `train/cat/x.png`, or `cat/x.png` without splits. */
  file_name: string
  /** The ORIGINAL class name, before it was made safe as a folder name. */
  label: string
  /**
   * The label the image had when imported (its folder), where the person relabelled it since;
   * empty for every other row.
   */
  original_label: string | null
  split: Split | null
  is_synthetic: boolean
  /** The source path of a real image; `run:<id>/checkpoint:<kind>@<epoch>/seed:<seed>` of a synthetic one. */
  source: string
  class_confidence: number | null
  novelty: number | null
  sha256: string
  /** How the image came to be: `real`, `cvae` (the run's generator) or `augment` (classic augmentation). */
  origin: 'real' | 'cvae' | 'augment'
  /**
   * The real image this one is, or was made from: a real image's own source path, an augmented
   * one's source image; null for the generator's samples. Rows that share one belong together.
   */
  source_image: string | null
  /**
   * The loss weight the downstream check suggests for the image: 0.5 for a synthetic one when
   * the generation's latest completed evaluation found synthetic images at half weight best,
   * else 1 (always 1 for a real image).
   */
  loss_weight: number
}

/** Column order of both manifest files. */
export const MANIFEST_COLUMNS = [
  'file_name',
  'label',
  'original_label',
  'split',
  'is_synthetic',
  'source',
  'class_confidence',
  'novelty',
  'sha256',
  'origin',
  'source_image',
  'loss_weight',
] as const satisfies readonly (keyof ManifestRow)[]

export type CsvValue = string | number | boolean | null

function csvField(v: CsvValue): string {
  if (v === null) return ''
  // NaN and ±Infinity have no CSV spelling that readers agree on: written as missing.
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : ''
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/**
 * One RFC 4180 record ending in `\n`: fields with a comma, quote, CR or LF are quoted with inner
 * quotes doubled; booleans are `true`/`false`; null is an empty field.
 */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\n`
}

/** `metadata.csv`: a header and one record per row, columns in {@link MANIFEST_COLUMNS} order. */
export function manifestCsv(rows: readonly ManifestRow[]): string {
  return (
    csvRow(MANIFEST_COLUMNS) + rows.map((r) => csvRow(MANIFEST_COLUMNS.map((c) => r[c]))).join('')
  )
}

/** `metadata.jsonl`: one JSON object per line, keys in {@link MANIFEST_COLUMNS} order. */
export function manifestJsonl(rows: readonly ManifestRow[]): string {
  return rows
    .map((r) => `${JSON.stringify(Object.fromEntries(MANIFEST_COLUMNS.map((c) => [c, r[c]])))}\n`)
    .join('')
}
