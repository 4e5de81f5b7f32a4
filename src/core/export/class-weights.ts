/**
 * `class_weights.json`: inverse-frequency class weights of an export's training images, for the
 * loss of a classifier trained on it (the other remedy for a class no generator can fill).
 */
import type { PlannedFile } from './contents'
import type { ExportClassCount } from '../../shared/export'

export interface ClassWeights {
  scheme: 'balanced'
  formula: string
  /** The images the weights are computed over: `train` with splits, else every image (null). */
  split: 'train' | null
  images: number
  classes: {
    label: string
    folder: string
    /** The class's index in torchvision's ImageFolder (and Hugging Face imagefolder): folders sorted. */
    index: number
    count: number
    real: number
    synthetic: number
    /** null: no training image of the class, so no weight makes sense. */
    weight: number | null
  }[]
  /** label -> weight. */
  weights: Record<string, number | null>
  /** weight per ImageFolder index, for torch.nn.CrossEntropyLoss(weight=torch.tensor(...)). */
  weights_by_index: (number | null)[]
}

/** Python's sorted() on str: by code point (JavaScript's default sort compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!)
  const y = Array.from(b, (c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i]
  return x.length - y.length
}

/**
 * weight(c) = n / (k × n_c) over the training images: n of them in k classes, n_c of class c
 * (scikit-learn's class_weight='balanced'); a class with as many images as the mean gets 1.
 */
export function classWeights(
  files: Pick<PlannedFile, 'classIndex' | 'synthetic' | 'meta'>[],
  classes: Pick<ExportClassCount, 'className' | 'folder'>[],
  withSplits: boolean,
): ClassWeights {
  const train = files.filter((f) => !withSplits || f.meta.split === 'train')
  const real = classes.map(() => 0)
  const synthetic = classes.map(() => 0)
  for (const f of train) (f.synthetic ? synthetic : real)[f.classIndex]++
  const present = classes.filter((_, i) => real[i] + synthetic[i] > 0).length
  const order = classes.map((c) => c.folder).sort(byCodePoint)
  const rows = classes.map((c, i) => {
    const count = real[i] + synthetic[i]
    return {
      label: c.className,
      folder: c.folder,
      index: order.indexOf(c.folder),
      count,
      real: real[i],
      synthetic: synthetic[i],
      weight: count > 0 ? train.length / (present * count) : null,
    }
  })
  const byIndex = [...rows].sort((a, b) => a.index - b.index)
  return {
    scheme: 'balanced',
    formula:
      'weight = images / (classes * images of the class), over the training images (scikit-learn class_weight="balanced")',
    split: withSplits ? 'train' : null,
    images: train.length,
    classes: byIndex,
    weights: Object.fromEntries(byIndex.map((r) => [r.label, r.weight])),
    weights_by_index: byIndex.map((r) => r.weight),
  }
}
