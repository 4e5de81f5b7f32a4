// bench/quality/datasets.ts: the default path (import, default training, default generation) on
// several datasets, judged by an independent classifier trained on a disjoint source.
// Prints one table: per dataset, plan fill rate (accepted / planned), the judge's in-class share of
// the accepted samples (overall and worst class), near-copies, diversity against real (worst
// class) and the time from import to a filled plan.
// Usage: node --import tsx bench/quality/datasets.ts [name ...]   (names: sample, fmnist-300,
// fmnist-3000; all by default). SYNTHFOLD_BENCH_SETTINGS / SYNTHFOLD_BENCH_GENERATION (JSON) try
// other settings on every dataset. Needs dataset-fashion-mnist.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { initBackend } from '../../src/core/accel/backend'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { cachedJudge, classify } from './judge'
import { cachedIconJudge, classifyIcons } from './icon-judge'
import { ICON_CATEGORIES, oxygenFiles } from './icons'
import { copiesAndDiversity, runDefaultPath } from './pipeline'
import { loadTrainingData } from '../../src/core/training/data'
import BetterSqlite3 from 'better-sqlite3'
import { Generator } from '../../src/core/generation/generator'

/** Raw samples per class (straight from the generator, before any filter) that the judge sees. */
const RAW_PER_CLASS = 100

/**
 * A PNG grid, one row per class of up to `cols` images (RGB or gray, any size), for looking at
 * what a run makes (SYNTHFOLD_BENCH_GRID=folder).
 */
async function writeGrid(
  file: string,
  rows: Uint8Array[][],
  size: number,
  channels: number,
  cols = 16,
): Promise<void> {
  const w = cols * size
  const canvas = new Uint8Array(rows.length * size * w * channels).fill(255)
  rows.forEach((imgs, r) =>
    imgs.slice(0, cols).forEach((im, i) => {
      for (let y = 0; y < size; y++)
        canvas.set(
          im.subarray(y * size * channels, (y + 1) * size * channels),
          ((r * size + y) * w + i * size) * channels,
        )
    }),
  )
  await sharp(Buffer.from(canvas), {
    raw: { width: w, height: rows.length * size, channels: channels as 1 | 3 | 4 },
  })
    .png()
    .toFile(file)
}

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

interface Case {
  name: string
  /** Writes the dataset's folder (or returns an existing one). */
  folder: (work: string) => Promise<string>
  /** The judge's class name for each image (at the dataset's size), or null for no opinion. */
  judge: (size: number) => Promise<(images: Uint8Array[]) => Promise<(string | null)[]>>
}

type Split = ReturnType<typeof loadFashionMnist>

let fmnistTrain: Split | null = null
const trainSplit = (): Split => (fmnistTrain ??= loadFashionMnist('train'))

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

/** A long-tailed subset of Fashion-MNIST's test split (the judge trains on the train split). */
function longTail(total: number, imbalance: number): Case['folder'] {
  return async (work) => {
    const test = loadFashionMnist('t10k')
    // counts fall geometrically from the head class to head / imbalance
    const ratios = CLASS_NAMES.map((_, c) => imbalance ** (-c / (CLASS_NAMES.length - 1)))
    const scale = total / ratios.reduce((a, b) => a + b, 0)
    const want = ratios.map((r) => Math.max(2, Math.round(r * scale)))
    const folder = join(work, `fmnist-${total}`)
    const have = CLASS_NAMES.map(() => 0)
    for (let i = 0; i < test.n; i++) {
      const c = test.label(i)
      if (have[c] >= want[c]) continue
      have[c]++
      mkdirSync(join(folder, CLASS_NAMES[c]), { recursive: true })
      const png = await sharp(Buffer.from(test.pixels(i)), {
        raw: { width: 28, height: 28, channels: 1 },
      })
        .toColourspace('b-w')
        .png()
        .toBuffer()
      writeFileSync(join(folder, CLASS_NAMES[c], `${i}.png`), png)
    }
    return folder
  }
}

const CASES: Case[] = [
  { name: 'sample', folder: async () => SAMPLE, judge: fmnistJudge },
  { name: 'fmnist-300', folder: longTail(300, 10), judge: fmnistJudge },
  { name: 'fmnist-3000', folder: longTail(3000, 50), judge: fmnistJudge },
  { name: 'icons', folder: icons(32), judge: iconJudge },
  { name: 'icons-64', folder: icons(64), judge: iconJudge },
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
      const db = new BetterSqlite3(join(home, 'synthfold.db'), { readonly: true })
      const data = loadTrainingData(db, home, r.datasetId)
      db.close()
      const judge = await c.judge(data.size)
      const recordOf = data.size * data.size * data.channels
      // the generator as the generation used it, sampled at its temperature with no filter
      const gen = Generator.load(join(home, 'runs', String(r.run.id), r.generation.checkpoint.kind))
      const raw = data.classNames.map(
        (_, k) => gen.sample(k, RAW_PER_CLASS, r.generation.temperature, 5000 + k).pixels,
      )
      gen.dispose()
      let rawRight = 0
      let rawWorst = 1
      for (const [k, imgs] of raw.entries()) {
        const ok = (await judge(imgs)).filter((v) => v === data.classNames[k]).length
        rawRight += ok
        rawWorst = Math.min(rawWorst, ok / imgs.length)
      }
      if (process.env.SYNTHFOLD_BENCH_GRID) {
        const dir = process.env.SYNTHFOLD_BENCH_GRID
        mkdirSync(dir, { recursive: true })
        await writeGrid(join(dir, `${c.name}-raw.png`), raw, data.size, data.channels)
        await writeGrid(
          join(dir, `${c.name}-accepted.png`),
          data.classNames.map((_, k) => r.accepted.get(k) ?? []),
          data.size,
          data.channels,
        )
        const real = data.classNames.map((_, k) => {
          const out: Uint8Array[] = []
          for (let i = 0; i < data.count && out.length < 16; i++)
            if (data.labels[i] === k)
              out.push(data.pixels.subarray(i * recordOf, (i + 1) * recordOf))
          return out
        })
        await writeGrid(join(dir, `${c.name}-real.png`), real, data.size, data.channels)
      }
      const record = data.size * data.size * data.channels
      let planned = 0
      let accepted = 0
      let right = 0
      let judged = 0
      let worst = { name: '-', share: 1 }
      let copies = 0
      let minDiversity = Infinity
      for (const k of r.generation.classes) {
        planned += k.planned
        const imgs = r.accepted.get(k.classIndex) ?? []
        accepted += Math.min(imgs.length, k.planned)
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
        const cd = copiesAndDiversity(imgs, real)
        copies += cd.copies
        if (imgs.length >= 2 && real.length >= 2)
          minDiversity = Math.min(minDiversity, cd.diversity)
        console.error(
          `  ${k.className.padEnd(14)} real ${String(k.real).padStart(4)}  accepted ${String(imgs.length).padStart(4)} / ${String(k.planned).padEnd(4)} tried ${String(k.generated).padStart(5)}  judge ${((ok / imgs.length) * 100).toFixed(0).padStart(3)}%  diversity ${(cd.diversity * 100).toFixed(0)}%`,
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
          `${((rawRight / (RAW_PER_CLASS * raw.length)) * 100).toFixed(1)}% (worst ${(rawWorst * 100).toFixed(0)}%)`.padStart(
            18,
          ),
          `${judged ? ((right / judged) * 100).toFixed(1) : '-'}%`.padStart(7),
          `${worst.name} ${(worst.share * 100).toFixed(0)}%`.padStart(18),
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
    'dataset       images        plan filled   raw judge (worst)   judge   worst class judged  copies  min div  import to filled plan',
  )
  for (const r of rows) console.log(r)
}

await main()
