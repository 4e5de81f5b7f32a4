/**
 * `evaluation_split.json`: which exported real images are the dataset's evaluation split (the
 * images Synthfold's runs never trained on and its downstream check scores on), so a person can
 * keep them as their own test set, away from anything trained on the synthetic images.
 */
import type { PlannedFile } from './contents'

export interface EvaluationSplitFile {
  note: string
  /** Exported paths of the evaluation split's images, from the export's root. */
  files: string[]
  /** label -> how many of its images are in the split. */
  counts: Record<string, number>
}

/** Null when the export holds none of the split (no real images, or a dataset never used). */
export function evaluationSplit(
  files: Pick<PlannedFile, 'rel' | 'meta' | 'evaluationSplit'>[],
): EvaluationSplitFile | null {
  const held = files.filter((f) => f.evaluationSplit)
  if (!held.length) return null
  const counts: Record<string, number> = {}
  for (const f of held) counts[f.meta.label] = (counts[f.meta.label] ?? 0) + 1
  return {
    note: "The dataset's evaluation split: real images that Synthfold's runs made since the split was set aside never trained on, and that its downstream check scores on. With splits they are all in the test split (which may hold other real images too); without, keep them out of a classifier's training images to test it on them.",
    files: held.map((f) => f.rel).sort(),
    counts,
  }
}
