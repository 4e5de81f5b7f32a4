// The datasets of the quality benches: the shipped sample and long-tailed Fashion-MNIST sets, each
// with an independent judge trained on images the set does not hold.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { cachedJudge, classify } from './judge'
import { cachedIconJudge, classifyIcons } from './icon-judge'
import { ICON_CATEGORIES, oxygenFiles } from './icons'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

export interface Case {
  name: string
  /** Writes the dataset's folder (or returns an existing one). */
  folder: (work: string) => Promise<string>
  /** The judge's class name for each image (at the dataset's size), or null for no opinion. */
  judge: (size: number) => Promise<(images: Uint8Array[]) => Promise<(string | null)[]>>
}

export type Split = ReturnType<typeof loadFashionMnist>

let fmnistTrain: Split | null = null
export const trainSplit = (): Split => (fmnistTrain ??= loadFashionMnist('train'))

async function fmnistJudge(): ReturnType<Case['judge']> {
  const clf = await cachedJudge(trainSplit())
  return async (images) => Array.from(classify(clf, images), (p) => CLASS_NAMES[p])
}

/** Oxygen's icons of bench/quality/icons.ts's categories, as the theme ships them (RGBA PNGs). */
function icons(size: 32 | 64): Case['folder'] {
  return async (work) => {
    const folder = join(work, `icons-${size}`)
    oxygenFiles(size).forEach((files, c) => {
      mkdirSync(join(folder, ICON_CATEGORIES[c].name), { recursive: true })
      for (const f of files) copyFileSync(f, join(folder, ICON_CATEGORIES[c].name, basename(f)))
    })
    return folder
  }
}

/** The icon judge (trained on other themes), on RGB images of the dataset's size. */
async function iconJudge(size: number): ReturnType<Case['judge']> {
  const clf = await cachedIconJudge()
  return async (images) =>
    Array.from(await classifyIcons(clf, images, size), (p) => ICON_CATEGORIES[p].name)
}

/** Per class, how many images a long-tailed set of about `total` images takes (head / tail = imbalance). */
function longTailCounts(total: number, imbalance: number): number[] {
  // counts fall geometrically from the head class to head / imbalance
  const ratios = CLASS_NAMES.map((_, c) => imbalance ** (-c / (CLASS_NAMES.length - 1)))
  const scale = total / ratios.reduce((a, b) => a + b, 0)
  return ratios.map((r) => Math.max(2, Math.round(r * scale)))
}

type Source = Pick<Split, 'n' | 'label' | 'pixels'>

async function writeFolder(src: Source, picked: number[], folder: string): Promise<void> {
  for (const c of CLASS_NAMES) mkdirSync(join(folder, c), { recursive: true })
  for (const i of picked) {
    const png = await sharp(Buffer.from(src.pixels(i)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    writeFileSync(join(folder, CLASS_NAMES[src.label(i)], `${i}.png`), png)
  }
}

/** The first images of each class in `src`, up to `want` of each. */
function pick(src: Source, want: number[]): number[] {
  const have = CLASS_NAMES.map(() => 0)
  const out: number[] = []
  for (let i = 0; i < src.n; i++) {
    const c = src.label(i)
    if (have[c] >= want[c]) continue
    have[c]++
    out.push(i)
  }
  return out
}

/** A long-tailed subset of Fashion-MNIST's test split (the judge trains on the train split). */
function longTail(total: number, imbalance: number): Pick<Case, 'folder' | 'judge'> {
  return {
    folder: async (work) => {
      const test = loadFashionMnist('t10k')
      const folder = join(work, `fmnist-${total}`)
      await writeFolder(test, pick(test, longTailCounts(total, imbalance)), folder)
      return folder
    },
    judge: fmnistJudge,
  }
}

/**
 * A long-tailed set too large for the test split: taken from the train and test splits pooled;
 * its judge trains on every pooled image the set did not take (at least ~1,100 of each class).
 */
function longTailPooled(total: number, imbalance: number): Pick<Case, 'folder' | 'judge'> {
  const pooled = (): Source => {
    const train = trainSplit()
    const test = loadFashionMnist('t10k')
    const at = (i: number): [Source, number] => (i < train.n ? [train, i] : [test, i - train.n])
    return {
      n: train.n + test.n,
      label: (i) => at(i)[0].label(at(i)[1]),
      pixels: (i) => at(i)[0].pixels(at(i)[1]),
    }
  }
  const want = longTailCounts(total, imbalance)
  return {
    folder: async (work) => {
      const src = pooled()
      const folder = join(work, `fmnist-${total}`)
      await writeFolder(src, pick(src, want), folder)
      return folder
    },
    judge: async () => {
      const src = pooled()
      const taken = new Set(pick(src, want))
      const rest = Array.from({ length: src.n }, (_, i) => i).filter((i) => !taken.has(i))
      const clf = await cachedJudge(
        { n: rest.length, label: (j) => src.label(rest[j]), pixels: (j) => src.pixels(rest[j]) },
        `pooled-rest-${total}-${imbalance}`,
      )
      return async (images) => Array.from(classify(clf, images), (p) => CLASS_NAMES[p])
    },
  }
}

export const CASES: Case[] = [
  { name: 'sample', folder: async () => SAMPLE, judge: fmnistJudge },
  { name: 'fmnist-300', ...longTail(300, 10) },
  { name: 'fmnist-1000', ...longTail(1000, 100) },
  { name: 'fmnist-3000', ...longTail(3000, 50) },
  { name: 'fmnist-24000', ...longTailPooled(24000, 10) },
  { name: 'icons', folder: icons(32), judge: iconJudge },
  { name: 'icons-64', folder: icons(64), judge: iconJudge },
]
