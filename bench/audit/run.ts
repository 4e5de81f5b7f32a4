// bench/audit: outliers and likely label errors on a dataset with planted problems.
// Real Fashion-MNIST images (300 per class, 3,000 in all) with PLANT_FLIPS of them filed in
// another class's folder, plus PLANT_ICONS icons from /usr/share/icons (out of domain) dropped into
// class folders. Imports it, trains a default run, audits it through the app (timed, as
// `synthfold audit` does), then scores every combination of the audit's views from one pass:
//   outliers:      ROC AUC of the anomaly score for the icons (target >= 0.95)
//   label errors:  of the top-k label-error suspects (k = flips planted), the share that are
//                  planted flips (target >= 70%), and of those, the share whose suggested class is
//                  the true one (target >= 80%)
//   time:          the audit of the 3,000 images (target < 30 s on 2 cores)
// Usage: npm run bench:audit   (SYNTHFOLD_BENCH_KEEP=1 keeps the work folder;
// SYNTHFOLD_BENCH_WORK=<kept folder> audits its trained run again, without training). Needs
// dataset-fashion-mnist and icons under /usr/share/icons.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import BetterSqlite3 from 'better-sqlite3'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { Core } from '../../src/core/core'
import { initBackend } from '../../src/core/accel/backend'
import { auditImages } from '../../src/core/audit/audit-job'
import {
  anomalyScores,
  combineProbabilities,
  knnVote,
  labelErrorScore,
  perClassCalibrated,
  rocAuc,
  suggestedClass,
  type AnomalyMethod,
} from '../../src/core/audit/scores'
import { Generator } from '../../src/core/generation/generator'
import { features } from '../../src/core/generation/features'
import { loadAuditData } from '../../src/core/training/data-load'
import { dbFile } from '../../src/core/util/paths'
import { rng } from '../../src/core/util/random'
import type { AuditSummary } from '../../src/shared/audit'

const PER_CLASS = 300
const PLANT_FLIPS = 90
const PLANT_ICONS = 30

function iconFiles(): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (p.endsWith('.png') && /48x48/.test(p)) out.push(p)
    }
  }
  walk('/usr/share/icons/oxygen')
  return out.sort()
}

interface Planted {
  /** rel path -> true class of a flipped image */
  flips: Map<string, string>
  icons: Set<string>
}

async function writeDataset(folder: string): Promise<Planted> {
  const src = loadFashionMnist('train')
  const rand = rng(2126)
  const have = CLASS_NAMES.map(() => 0)
  const picked: number[] = []
  for (let i = 0; i < src.n && picked.length < PER_CLASS * CLASS_NAMES.length; i++)
    if (have[src.label(i)] < PER_CLASS) {
      have[src.label(i)]++
      picked.push(i)
    }
  const flipAt = new Set<number>()
  while (flipAt.size < PLANT_FLIPS) flipAt.add(picked[Math.floor(rand() * picked.length)])
  const planted: Planted = { flips: new Map(), icons: new Set() }
  for (const c of CLASS_NAMES) mkdirSync(join(folder, c), { recursive: true })
  for (const i of picked) {
    const truth = src.label(i)
    let filed = truth
    if (flipAt.has(i)) filed = (truth + 1 + Math.floor(rand() * (CLASS_NAMES.length - 1))) % 10
    const rel = `${CLASS_NAMES[filed]}/${i}.png`
    if (filed !== truth) planted.flips.set(rel, CLASS_NAMES[truth])
    const png = await sharp(Buffer.from(src.pixels(i)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    writeFileSync(join(folder, rel), png)
  }
  const icons = iconFiles()
  for (let j = 0; j < PLANT_ICONS; j++) {
    const file = icons[Math.floor(rand() * icons.length)]
    const rel = `${CLASS_NAMES[j % 10]}/icon-${j}.png`
    await sharp(file)
      .flatten({ background: '#000000' })
      .resize(28, 28)
      .greyscale()
      .png()
      .toFile(join(folder, rel))
    planted.icons.add(rel)
  }
  return planted
}

async function main(): Promise<void> {
  const reuse = process.env.SYNTHFOLD_BENCH_WORK
  const work = reuse ?? mkdtempSync(join(tmpdir(), 'synthfold-bench-audit-'))
  const folder = join(work, 'planted')
  const home = join(work, 'home')
  if (!reuse) {
    const planted = await writeDataset(folder)
    process.stderr.write(
      `dataset: ${PER_CLASS * 10 + PLANT_ICONS} images, ${planted.flips.size} flipped labels, ${planted.icons.size} icons\n`,
    )
  }
  const core = new Core({ home, shell: 'cli' })
  let runId = 1
  let datasetId = 1
  let audit: AuditSummary
  let auditSeconds = 0
  try {
    if (!reuse) {
      datasetId = await new Promise<number>((resolve, reject) => {
        core.on('job', (e) =>
          e.type === 'done'
            ? resolve(e.result.datasetId)
            : e.type === 'failed'
              ? reject(new Error(e.error.message))
              : undefined,
        )
        void core
          .call('datasets.import', { path: folder })
          .then((r) => !r.ok && reject(new Error(r.error.message)))
      })
      const t0 = Date.now()
      const settings = process.env.SYNTHFOLD_BENCH_SETTINGS
        ? JSON.parse(process.env.SYNTHFOLD_BENCH_SETTINGS)
        : {}
      runId = await new Promise<number>((resolve, reject) => {
        let id = 0
        core.on('run', (e) => {
          if (e.type !== 'status' || e.run.id !== id || e.run.status === 'running') return
          if (e.run.status === 'completed') resolve(id)
          else reject(new Error(`run ${e.run.status}: ${e.run.error}`))
        })
        void core
          .call('runs.start', { datasetId, settings })
          .then((r) => (r.ok ? (id = r.value.id) : reject(new Error(r.error.message))))
      })
      process.stderr.write(`trained run ${runId} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`)
    }
    const t1 = Date.now()
    audit = await new Promise<AuditSummary>((resolve, reject) => {
      let id = 0
      core.on('audit', (e) => {
        if (e.type === 'status' && e.audit.id === id && e.audit.status !== 'running')
          resolve(e.audit)
      })
      void core
        .call('audits.start', { runId })
        .then((r) => (r.ok ? (id = r.value.id) : reject(new Error(r.error.message))))
    })
    auditSeconds = (Date.now() - t1) / 1000
    if (audit.status !== 'completed') throw new Error(`audit ${audit.status}: ${audit.error}`)
  } finally {
    await core.close()
  }

  // every combination from one pass of the audit's views, in this process
  await initBackend('auto')
  const db = new BetterSqlite3(dbFile(home), { readonly: true })
  const ckpt = db
    .prepare(`SELECT path FROM checkpoints WHERE run_id = ? AND kind = 'best'`)
    .get(runId) as { path: string }
  const paths = new Map(
    (
      db.prepare('SELECT id, rel_path FROM images WHERE dataset_id = ?').all(datasetId) as {
        id: number
        rel_path: string
      }[]
    ).map((r) => [r.id, r.rel_path]),
  )
  const gen = Generator.load(ckpt.path)
  const data = loadAuditData(db, home, datasetId, gen.classNames)
  db.close()
  const t2 = Date.now()
  const result = (await auditImages(gen, data))!
  const inProcess = (Date.now() - t2) / 1000
  const k = gen.classNames.length
  const rel = Array.from(data.ids, (id) => paths.get(id)!)
  // what was planted, from the file names: icon-N.png, or the Fashion-MNIST index in its folder
  const src = loadFashionMnist('train')
  const isIcon = rel.map((p) => /\/icon-\d+\.png$/.test(p))
  const truth = rel.map((p, i) =>
    isIcon[i] ? null : CLASS_NAMES[src.label(Number(/\/(\d+)\.png$/.exec(p)![1]))],
  )
  const isFlip = rel.map((p, i) => truth[i] !== null && truth[i] !== p.split('/')[0])
  const flips = isFlip.filter(Boolean).length
  const lines: string[] = []
  lines.push(
    `${data.count} images: ${flips} flipped labels, ${isIcon.filter(Boolean).length} icons (method ${audit.method})`,
  )
  lines.push(
    `audit through the app: ${auditSeconds.toFixed(1)} s (in-process pass ${inProcess.toFixed(1)} s; CVAE temperature ${result.views.temperature.toFixed(2)})`,
  )
  const extra = { kl: result.views.kl, nearestDistance: result.views.nearestDistance }
  for (const a of ['own', 'best', 'class-z', 'combined'] as AnomalyMethod[]) {
    const s = anomalyScores(result.views.nll, data.labels, k, a, extra)
    lines.push(`outliers  ${a.padEnd(9)} ROC AUC ${rocAuc(s, isIcon).toFixed(3)}`)
  }
  const feats = Array.from({ length: data.count }, (_, i) =>
    features(data.pixels.subarray(i * 784, (i + 1) * 784), data.size, data.channels),
  )
  const votes = new Map<number, Float32Array>()
  for (const nb of [10, 20])
    votes.set(nb, (await knnVote(feats, data.labels, k, { neighbours: nb }))!.probs)
  const variants: [string, Float32Array][] = []
  for (const [nb, knn] of votes) {
    variants.push([`knn${nb}`, knn])
    for (const w of [0.3, 0.5, 0.7])
      variants.push([
        `mean(${w})+knn${nb}`,
        combineProbabilities('mean', result.views.cvae, knn, k, w),
      ])
    variants.push([`product+knn${nb}`, combineProbabilities('product', result.views.cvae, knn, k)])
  }
  variants.push(['cvae', result.views.cvae])
  for (const [name, base] of [...variants])
    variants.push([`${name}+calibrated`, perClassCalibrated(base, data.labels, k)])
  for (const [name, probs] of variants) {
    const order = Array.from({ length: data.count }, (_, i) => i)
      .map((i) => ({ i, s: labelErrorScore(probs, i, k, data.labels[i]) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, flips)
    const hits = order.filter((o) => isFlip[o.i])
    const right = hits.filter((o) => gen.classNames[suggestedClass(probs, o.i, k)] === truth[o.i])
    const icons = order.filter((o) => isIcon[o.i]).length
    lines.push(
      `labels    ${name.padEnd(28)} top-${flips}: ${((100 * hits.length) / flips).toFixed(1)}% planted (${icons} icons), suggested = true class ${hits.length ? ((100 * right.length) / hits.length).toFixed(1) : '-'}%`,
    )
  }
  gen.dispose()
  process.stdout.write(lines.join('\n') + '\n')
  if (!process.env.SYNTHFOLD_BENCH_KEEP && !reuse) rmSync(work, { recursive: true, force: true })
  else process.stderr.write(`kept ${work}\n`)
}

await main()
