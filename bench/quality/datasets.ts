// bench/quality/datasets.ts: the default path (import, default training, default generation) on
// several datasets, judged by an independent classifier trained on a disjoint source.
// Prints one table: per dataset, plan fill rate (accepted / planned), the judge's in-class share of
// the accepted samples (overall and worst class), near-copies, diversity against real (worst
// class) and the time from import to a filled plan.
// Usage: node --import tsx bench/quality/datasets.ts [name ...]   (names: sample, fmnist-300,
// fmnist-1000, fmnist-3000, fmnist-24000; all by default). "raw": the judge's in-class share of
// the first samples tried per class, before any filter. SYNTHFOLD_BENCH_SETTINGS / SYNTHFOLD_BENCH_GENERATION (JSON) try
// other settings on every dataset. Needs dataset-fashion-mnist.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { initBackend } from '../../src/core/accel/backend'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { cachedJudge, classify } from './judge'
import { copiesAndDiversity, runDefaultPath } from './pipeline'
import { loadTrainingData } from '../../src/core/training/data'
import BetterSqlite3 from 'better-sqlite3'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

interface Case {
  name: string
  /** Writes the dataset's folder (or returns an existing one). */
  folder: (work: string) => Promise<string>
  /** The judge's class name for each image, or null when it has no opinion. */
  judge: () => Promise<(images: Uint8Array[]) => (string | null)[]>
}

const COPY_CHECK = 400

type Split = ReturnType<typeof loadFashionMnist>

let fmnistTrain: Split | null = null
const trainSplit = (): Split => (fmnistTrain ??= loadFashionMnist('train'))

async function fmnistJudge(): Promise<(images: Uint8Array[]) => (string | null)[]> {
  const clf = await cachedJudge(trainSplit())
  return (images) => Array.from(classify(clf, images), (p) => CLASS_NAMES[p])
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
      return (images) => Array.from(classify(clf, images), (p) => CLASS_NAMES[p])
    },
  }
}

const CASES: Case[] = [
  { name: 'sample', folder: async () => SAMPLE, judge: fmnistJudge },
  { name: 'fmnist-300', ...longTail(300, 10) },
  { name: 'fmnist-1000', ...longTail(1000, 100) },
  { name: 'fmnist-3000', ...longTail(3000, 50) },
  { name: 'fmnist-24000', ...longTailPooled(24000, 10) },
]

async function main(): Promise<void> {
  await initBackend('auto')
  const wanted = process.argv.slice(2)
  const cases = wanted.length ? CASES.filter((c) => wanted.includes(c.name)) : CASES
  const settings = JSON.parse(process.env.SYNTHFOLD_BENCH_SETTINGS ?? '{}') as object
  const generation = JSON.parse(process.env.SYNTHFOLD_BENCH_GENERATION ?? '{}') as object
  const rows: string[] = []
  for (const c of cases) {
    const work = mkdtempSync(join(tmpdir(), `synthfold-datasets-${c.name}-`))
    try {
      console.error(`${c.name}:`)
      const folder = await c.folder(work)
      const home = join(work, 'home')
      const r = await runDefaultPath(home, folder, { settings, generation })
      const judge = await c.judge()
      const db = new BetterSqlite3(join(home, 'synthfold.db'), { readonly: true })
      const data = loadTrainingData(db, home, r.datasetId)
      db.close()
      const record = data.size * data.size * data.channels
      let planned = 0
      let accepted = 0
      let right = 0
      let judged = 0
      let worst = { name: '-', share: 1 }
      let rawRight = 0
      let rawJudged = 0
      let rawWorst = { name: '-', share: 1 }
      let copies = 0
      let minDiversity = Infinity
      for (const k of r.generation.classes) {
        planned += k.planned
        const imgs = r.accepted.get(k.classIndex) ?? []
        accepted += Math.min(imgs.length, k.planned)
        const raw = r.raw.get(k.classIndex) ?? []
        const rawOk = raw.length ? (await judge(raw)).filter((v) => v === k.className).length : 0
        rawRight += rawOk
        rawJudged += raw.length
        if (raw.length && rawOk / raw.length < rawWorst.share)
          rawWorst = { name: k.className, share: rawOk / raw.length }
        if (!imgs.length) continue
        const verdicts = await judge(imgs)
        const ok = verdicts.filter((v) => v === k.className).length
        right += ok
        judged += imgs.length
        if (ok / imgs.length < worst.share) worst = { name: k.className, share: ok / imgs.length }
        const dataClass = data.classNames.indexOf(k.className)
        const real: Uint8Array[] = []
        for (let i = 0; i < data.count; i++)
          if (data.labels[i] === dataClass)
            real.push(data.pixels.subarray(i * record, (i + 1) * record))
        // near-copies and diversity on the first COPY_CHECK accepted samples of a class (every real
        // image of the class is searched for each): exact on the small sets, a sample of the large
        const cd = copiesAndDiversity(imgs.slice(0, COPY_CHECK), real)
        copies += cd.copies
        if (imgs.length >= 2 && real.length >= 2)
          minDiversity = Math.min(minDiversity, cd.diversity)
        console.error(
          `  ${k.className.padEnd(14)} real ${String(k.real).padStart(4)}  accepted ${String(imgs.length).padStart(4)} / ${String(k.planned).padEnd(4)} tried ${String(k.generated).padStart(5)}  judge ${((ok / imgs.length) * 100).toFixed(0).padStart(3)}% (raw ${raw.length ? ((rawOk / raw.length) * 100).toFixed(0) : '-'}%)  diversity ${(cd.diversity * 100).toFixed(0)}%`,
        )
      }
      const total = r.seconds.import + r.seconds.train + r.seconds.generate
      rows.push(
        [
          c.name.padEnd(12),
          `${data.count}`.padStart(6),
          `${((accepted / Math.max(1, planned)) * 100).toFixed(0)}% (${accepted}/${planned})`.padStart(
            16,
          ),
          `${judged ? ((right / judged) * 100).toFixed(1) : '-'}%`.padStart(7),
          `${worst.name} ${(worst.share * 100).toFixed(0)}%`.padStart(18),
          `${rawJudged ? ((rawRight / rawJudged) * 100).toFixed(1) : '-'}%`.padStart(7),
          `${rawWorst.name} ${(rawWorst.share * 100).toFixed(0)}%`.padStart(18),
          `${copies}`.padStart(6),
          `${Number.isFinite(minDiversity) ? (minDiversity * 100).toFixed(0) : '-'}%`.padStart(6),
          `${total.toFixed(0)} s (train ${r.seconds.train.toFixed(0)}, generate ${r.seconds.generate.toFixed(0)})`,
        ].join('  '),
      )
    } finally {
      if (!process.env.SYNTHFOLD_BENCH_KEEP) rmSync(work, { recursive: true, force: true })
      else console.error(`  kept ${work}`)
    }
  }
  console.log(
    'dataset       images        plan filled  judge   worst class judged  raw     worst raw class   copies  min div  import to filled plan',
  )
  for (const r of rows) console.log(r)
}

await main()
