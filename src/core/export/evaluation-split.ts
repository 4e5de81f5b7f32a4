/**
 * `evaluation_split.json`: which exported real images are the dataset's evaluation split (the
 * images Synthfold's runs never trained on and its downstream check scores on), so a person can
 * keep them as their own test set, away from anything trained on the synthetic images.
 */
import type { PlannedFile } from './contents'

export interface EvaluationSplitFile {
  note: string
  /** Exported paths (as in metadata's file_name) of the evaluation split's images. */
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
    note: "Real images Synthfold's runs never trained on (its evaluation split). Keep them as a test set: a classifier trained on this export's other images, synthetic ones included, has not seen them; the generator has not either.",
    files: held.map((f) => f.rel).sort(),
    counts,
  }
}
