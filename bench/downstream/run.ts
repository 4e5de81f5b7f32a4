// bench/downstream/run.ts: does Synthfold's default synthetic data help a classifier? The default
// path (import, default training, default generation) on a long-tailed set, then the downstream
// check's arms (src/core/evaluate/arms.ts: the same small CNN trained on real only, with class
// weights, with logit adjustment, with the accepted synthetic images, ...) scored on a balanced
// real test set the generator never saw (Fashion-MNIST's train split; the sets come from t10k).
// Usage: node --import tsx bench/downstream/run.ts [dataset]   (sample, fmnist-300, fmnist-1000,
// fmnist-3000 (default)). SYNTHFOLD_BENCH_SEEDS (3), SYNTHFOLD_BENCH_TEST_PER_CLASS (300).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { initBackend } from '../../src/core/accel/backend'
import { evaluateArms } from '../../src/core/evaluate/arms'
import type { LabeledImages } from '../../src/core/evaluate/downstream'
import { loadTrainingData } from '../../src/core/training/data-load'
import { ARM_LABELS, bestArm, verdict } from '../../src/shared/evaluation'
import { CLASS_NAMES } from '../../scripts/fashion-mnist.mjs'
import { CASES, trainSplit } from '../quality/cases'
import { runDefaultPath } from '../quality/pipeline'

async function main(): Promise<void> {
  await initBackend('auto')
  const name = process.argv[2] ?? 'fmnist-3000'
  const c = CASES.find((k) => k.name === name)
  if (!c || name === 'fmnist-24000') throw new Error(`no t10k-based dataset named ${name}`)
  const seeds = Number(process.env.SYNTHFOLD_BENCH_SEEDS ?? 3)
  const perClass = Number(process.env.SYNTHFOLD_BENCH_TEST_PER_CLASS ?? 300)
  const work = mkdtempSync(join(tmpdir(), `synthfold-downstream-${name}-`))
  try {
    const folder = await c.folder(work)
    const home = join(work, 'home')
    const r = await runDefaultPath(home, folder)
    const db = new BetterSqlite3(join(home, 'synthfold.db'), { readonly: true })
    // what the generator trained on; the test set is outside the dataset
    const data = loadTrainingData(db, home, r.datasetId, 'exclude')
    db.close()
    const classNames = data.classNames
    const record = data.size * data.size * data.channels
    const real: LabeledImages = { images: [], labels: [] }
    for (let i = 0; i < data.count; i++) {
      real.images.push(data.pixels.slice(i * record, (i + 1) * record))
      real.labels.push(data.labels[i])
    }
    const synthetic: LabeledImages = { images: [], labels: [] }
    for (const k of r.generation.classes)
      for (const im of r.accepted.get(k.classIndex) ?? []) {
        synthetic.images.push(im)
        synthetic.labels.push(classNames.indexOf(k.className))
      }
    const train = trainSplit()
    const test: LabeledImages = { images: [], labels: [] }
    const have = new Map<number, number>()
    for (let i = 0; i < train.n; i++) {
      const cls = classNames.indexOf(CLASS_NAMES[train.label(i)])
      if (cls < 0 || (have.get(cls) ?? 0) >= perClass) continue
      have.set(cls, (have.get(cls) ?? 0) + 1)
      test.images.push(Uint8Array.from(train.pixels(i)))
      test.labels.push(cls)
    }
    console.error(
      `${name}: ${real.images.length} real, ${synthetic.images.length} accepted synthetic, ${test.images.length} test; ${seeds} seeds`,
    )
    const t0 = Date.now()
    const arms = await evaluateArms({
      real,
      synthetic,
      test,
      classNames,
      shape: { size: data.size, channels: data.channels, classes: classNames.length },
      seeds,
      onProgress: (p) => console.error(`  ${p.arm} seed ${p.seed} (${p.done}/${p.of})`),
    })
    const seconds = (Date.now() - t0) / 1000
    const cw = arms.find((a) => a.name === 'class-weights')!
    console.log(
      `arm                                   balanced acc     macro-F1  worst class recall    vs class weights`,
    )
    for (const a of arms) {
      const worst = Object.entries(a.perClassRecall).reduce((m, e) => (e[1] < m[1] ? e : m))
      console.log(
        [
          ARM_LABELS[a.name].padEnd(36),
          `${(a.balancedAccuracy * 100).toFixed(1)} ± ${(a.spread * 100).toFixed(1)}`.padStart(13),
          `${(a.macroF1 * 100).toFixed(1)}`.padStart(12),
          `${worst[0]} ${(worst[1] * 100).toFixed(0)}%`.padStart(20),
          `${((a.balancedAccuracy - cw.balancedAccuracy) * 100).toFixed(1)} points`.padStart(19),
        ].join(''),
      )
    }
    console.log(`best: ${ARM_LABELS[bestArm(arms).name]}`)
    console.log(verdict(arms))
    console.log(
      `evaluation ${seconds.toFixed(0)} s; default path ${(r.seconds.import + r.seconds.train + r.seconds.generate).toFixed(0)} s`,
    )
  } finally {
    if (!process.env.SYNTHFOLD_BENCH_KEEP) rmSync(work, { recursive: true, force: true })
  }
}

await main()
