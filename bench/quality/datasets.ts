// bench/quality/datasets.ts: the default path (import, default training, default generation) on
// several datasets, judged by an independent classifier trained on a disjoint source.
// Prints one table: per dataset, plan fill rate (accepted / planned), the judge's in-class share of
// the accepted samples (overall and worst class), near-copies, diversity against real (worst
// class) and the time from import to a filled plan.
// Usage: node --import tsx bench/quality/datasets.ts [name ...]   (names: sample, fmnist-300,
// fmnist-1000, fmnist-3000, fmnist-24000, icons, icons-64; all by default). "raw": the judge's
// in-class share of 100 samples per class straight from the generator, before any filter.
// SYNTHFOLD_BENCH_GRID=<folder> writes PNG grids of real, raw and accepted samples. SYNTHFOLD_BENCH_SETTINGS / SYNTHFOLD_BENCH_GENERATION (JSON) try
// other settings on every dataset; SYNTHFOLD_BENCH_MODELS=cvae,wae runs each dataset once per model
// family, SYNTHFOLD_BENCH_VARIANTS (a JSON list of settings) once per variant (a beta sweep). "raw FID": Fréchet distance of the raw samples from real images in the Fashion-MNIST
// judge's features (bench/quality/fid.ts; gray sets only). Needs dataset-fashion-mnist.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import sharp from 'sharp'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initBackend } from '../../src/core/accel/backend'
import { CASES } from './cases'
import { copiesAndDiversity, runDefaultPath } from './pipeline'
import { type TrainingData } from '../../src/core/training/data'
import { loadTrainingData } from '../../src/core/training/data-load'
import { Generator } from '../../src/core/generation/generator'
import BetterSqlite3 from 'better-sqlite3'
import { fashionFid } from './fid'

const COPY_CHECK = 400
/** Raw samples per class (straight from the generator, before any filter) that the judge sees. */
const RAW_PER_CLASS = 100

/** A PNG grid, one row per class of up to `cols` images (RGB or gray, any size). */
async function writeGrid(
  file: string,
  rows: Uint8Array[][],
  size: number,
  channels: number,
  cols = 16,
) {
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

/** Real, raw and accepted samples of every class as PNG grids (SYNTHFOLD_BENCH_GRID=folder). */
async function writeGrids(
  dir: string,
  name: string,
  data: TrainingData,
  raw: Map<number, Uint8Array[]>,
  accepted: Map<number, Uint8Array[]>,
): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const record = data.size * data.size * data.channels
  const classes = [...raw.keys()]
  const real = classes.map((k) => {
    const out: Uint8Array[] = []
    for (let i = 0; i < data.count && out.length < 16; i++)
      if (data.labels[i] === k) out.push(data.pixels.subarray(i * record, (i + 1) * record))
    return out
  })
  await writeGrid(join(dir, `${name}-real.png`), real, data.size, data.channels)
  await writeGrid(
    join(dir, `${name}-raw.png`),
    classes.map((k) => raw.get(k)!),
    data.size,
    data.channels,
  )
  await writeGrid(
    join(dir, `${name}-accepted.png`),
    classes.map((k) => accepted.get(k) ?? []),
    data.size,
    data.channels,
  )
}

async function main(): Promise<void> {
  await initBackend('auto')
  const wanted = process.argv.slice(2)
  const cases = wanted.length ? CASES.filter((c) => wanted.includes(c.name)) : CASES
  const base = JSON.parse(process.env.SYNTHFOLD_BENCH_SETTINGS ?? '{}') as object
  const generation = JSON.parse(process.env.SYNTHFOLD_BENCH_GENERATION ?? '{}') as object
  // SYNTHFOLD_BENCH_MODELS=cvae,wae runs every dataset once per model family;
  // SYNTHFOLD_BENCH_VARIANTS='[{"beta":0.5},{"beta":2}]' once per settings variant (a beta sweep)
  const variants: Record<string, unknown>[] = [
    ...(process.env.SYNTHFOLD_BENCH_MODELS ?? '')
      .split(',')
      .filter(Boolean)
      .map((model) => ({ model })),
    ...(JSON.parse(process.env.SYNTHFOLD_BENCH_VARIANTS ?? '[]') as Record<string, unknown>[]),
  ]
  const rows: string[] = []
  const runs = cases.flatMap(
    (c): { c: (typeof cases)[number]; variant: Record<string, unknown> | null }[] =>
      variants.length ? variants.map((v) => ({ c, variant: v })) : [{ c, variant: null }],
  )
  for (const { c, variant } of runs) {
    const settings = variant ? { ...base, ...variant } : base
    const label = variant
      ? `${c.name} ${Object.entries(variant)
          .map(([k, v]) => (k === 'model' ? String(v) : `${k}=${String(v)}`))
          .join(' ')}`
      : c.name
    const work = mkdtempSync(join(tmpdir(), `synthfold-datasets-${c.name}-`))
    try {
      console.error(`${label}:`)
      const folder = await c.folder(work)
      const home = join(work, 'home')
      const r = await runDefaultPath(home, folder, { settings, generation })
      const db = new BetterSqlite3(join(home, 'synthfold.db'), { readonly: true })
      const data = loadTrainingData(db, home, r.datasetId, 'include')
      db.close()
      const judge = await c.judge(data.size)
      // raw: the generator as the generation used it, at its temperature, before any filter
      const gen = Generator.load(join(home, 'runs', String(r.run.id), r.generation.checkpoint.kind))
      const rawOf = new Map(
        r.generation.classes.map((k) => [
          k.classIndex,
          gen.sample(k.classIndex, RAW_PER_CLASS, r.generation.temperature, 5000 + k.classIndex)
            .pixels,
        ]),
      )
      gen.dispose()
      if (process.env.SYNTHFOLD_BENCH_GRID)
        await writeGrids(process.env.SYNTHFOLD_BENCH_GRID, c.name, data, rawOf, r.accepted)
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
        const raw = rawOf.get(k.classIndex) ?? []
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
      // FID of the raw samples in the Fashion-MNIST judge's features (gray 28 px sets only)
      const fashion = c.name === 'sample' || c.name.startsWith('fmnist')
      const fid = fashion
        ? await fashionFid(
            new Map(r.generation.classes.map((k) => [k.className, rawOf.get(k.classIndex) ?? []])),
          )
        : null
      const total = r.seconds.import + r.seconds.train + r.seconds.generate
      rows.push(
        [
          label.padEnd(18),
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
          (fid === null ? '-' : fid.toFixed(1)).padStart(6),
          `${total.toFixed(0)} s (train ${r.seconds.train.toFixed(0)}, generate ${r.seconds.generate.toFixed(0)})`,
        ].join('  '),
      )
    } finally {
      if (!process.env.SYNTHFOLD_BENCH_KEEP) rmSync(work, { recursive: true, force: true })
      else console.error(`  kept ${work}`)
    }
  }
  console.log(
    'dataset             images        plan filled  judge   worst class judged  raw     worst raw class   copies  min div  raw FID  import to filled plan',
  )
  for (const r of rows) console.log(r)
}

await main()
