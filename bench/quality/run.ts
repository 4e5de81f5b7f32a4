// bench/quality: does a default run make samples of the class it was asked for?
// 1. an imbalanced Fashion-MNIST subset (>= 5,000 images, 1,500 down to 40 a class) is imported;
// 2. a default run (balanced preset) trains on it, in its own process, as the app does;
// 3. an independent CNN classifier is trained on the full 60,000-image training split;
// 4. the raw generator: per class with >= 20 real images, 200 samples straight from the prior are
//    classified (how often the CVAE alone makes the class it was asked for);
// 5. the app's own pipeline: a default generation (not-majority, ratio cap 3:1, the default temperature,
//    default filters) from the run; its auto-accepted samples are judged on the issue's bar:
//    >= 90% put in their class by the independent classifier, no near-copy of a training image
//    (full-resolution pixel distance to the nearest real image of the class under half the median
//    real-to-real nearest distance), per-class diversity (mean pairwise distance) >= 70% of the
//    real images'.
// Usage: npm run bench:quality   (needs dataset-fashion-mnist; takes several minutes on 2 cores)
import * as tf from '@tensorflow/tfjs-core'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { Core } from '../../src/core/core'
import { initBackend } from '../../src/core/accel/backend'
import { loadTrainingData } from '../../src/core/training/data-load'
import { Generator } from '../../src/core/generation/generator'
import { readPng } from '../../src/core/generation/generate'
import type { GenerationSummary } from '../../src/shared/generation'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { SUBSET_COUNTS, asTensors, cachedJudge, classify, subsetIndices } from './judge'
import { meanPairwise, pixelDistance } from './pipeline'

const PER_CLASS = 200

async function main(): Promise<void> {
  await initBackend('auto')
  const train = loadFashionMnist('train')
  const test = loadFashionMnist('t10k')
  const work = mkdtempSync(join(tmpdir(), 'synthfold-quality-'))
  const folder = join(work, 'subset')
  const subset = subsetIndices(train)
  for (const i of subset) {
    const c = train.label(i)
    mkdirSync(join(folder, CLASS_NAMES[c]), { recursive: true })
    const png = await sharp(Buffer.from(train.pixels(i)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    writeFileSync(join(folder, CLASS_NAMES[c], `${i}.png`), png)
  }
  const core = new Core({ home: join(work, 'home'), shell: 'cli' })
  const imported = await new Promise<number>((resolve, reject) => {
    core.on('job', (e) =>
      e.type === 'done'
        ? resolve(e.result.datasetId)
        : e.type === 'failed'
          ? reject(new Error(e.error.message))
          : undefined,
    )
    void core.call('datasets.import', { path: folder })
  })
  console.log(`subset: ${subset.length} images, ${SUBSET_COUNTS.join('/')} per class`)

  const t0 = Date.now()
  const run = await new Promise<number>((resolve, reject) => {
    let id = 0
    core.on('run', (e) => {
      if (e.type === 'epoch' && e.runId === id)
        process.stderr.write(
          `  epoch ${e.metrics.epoch + 1}: loss ${e.metrics.loss.toFixed(1)} val ${e.metrics.valLoss?.toFixed(1)} active ${e.metrics.activeUnits}\n`,
        )
      if (e.type === 'status' && e.run.id === id && e.run.status !== 'running') {
        if (e.run.status === 'completed') resolve(id)
        else reject(new Error(`run ${e.run.status}: ${e.run.error}`))
      }
    })
    // SYNTHFOLD_BENCH_SETTINGS='{"classLossWeight":40}' tries other settings on the same data
    const settings = JSON.parse(process.env.SYNTHFOLD_BENCH_SETTINGS ?? '{}') as object
    void core.call('runs.start', { datasetId: imported, settings }).then((r) => {
      if (!r.ok) reject(new Error(r.error.message))
      else id = r.value.id
    })
  })
  const summary = (await core.call('runs.get', { runId: run })) as {
    ok: true
    value: {
      run: {
        checkpoints: { kind: string }[]
        settings: object
        epochsDone: number
        lastMetrics: { valReconstruction: number | null } | null
      }
    }
  }
  console.log(
    `default run: ${summary.value.run.epochsDone} epochs in ${((Date.now() - t0) / 1000).toFixed(0)} s, settings ${JSON.stringify(summary.value.run.settings)}`,
  )
  const data = loadTrainingData(core.db, core.home, imported, 'include')
  const ckptDir = join(core.home, 'runs', String(run), 'best')

  const tg = Date.now()
  const generation = await new Promise<GenerationSummary>((resolve, reject) => {
    let id = 0
    core.on('generation', (e) => {
      if (e.type === 'status' && e.generation.id === id && e.generation.status !== 'running')
        resolve(e.generation)
    })
    void core.call('generations.start', { runId: run }).then((r) => {
      if (!r.ok) reject(new Error(r.error.message))
      else id = r.value.id
    })
  })
  const accepted = new Map<number, Uint8Array[]>()
  for (const c of generation.classes) {
    const r = await core.call('samples.list', {
      generationId: generation.id,
      classIndex: c.classIndex,
      status: 'accepted',
      limit: 2000,
    })
    if (!r.ok) throw new Error(r.error.message)
    const imgs: Uint8Array[] = []
    for (const s of r.value.items) {
      const d = await core.call('samples.get', { sampleId: s.id })
      if (d.ok) imgs.push(await readPng(join(generation.folder, 'samples', d.value.file), 1))
    }
    accepted.set(c.classIndex, imgs)
  }
  console.log(
    `default generation: ${generation.status} in ${((Date.now() - tg) / 1000).toFixed(0)} s; run classifier val accuracy ${((generation.classifierAccuracy ?? 0) * 100).toFixed(1)}%${generation.note ? `; ${generation.note}` : ''}`,
  )
  await core.close()

  const clf = await cachedJudge(train)
  const te = asTensors(test, test.n)
  const acc = (clf.evaluate(te.x, te.y) as tf.Scalar[])[1].dataSync()[0]
  const testPred = tf.tidy(
    () => tf.argMax(clf.predict(te.x) as tf.Tensor, 1).dataSync() as Int32Array,
  )
  const perClass = CLASS_NAMES.map((name, c) => {
    let n = 0
    let right = 0
    te.labels.forEach((l, i) => {
      if (l !== c) return
      n++
      if (testPred[i] === c) right++
    })
    return `${name} ${((right / n) * 100).toFixed(0)}%`
  })
  console.log(
    `independent classifier: ${(acc * 100).toFixed(1)}% on the 10,000 test images; per class on real test images: ${perClass.join(', ')}`,
  )

  const gen = Generator.load(ckptDir)
  const realOf = (c: number): Uint8Array[] => {
    const out: Uint8Array[] = []
    for (let i = 0; i < data.count; i++)
      if (data.labels[i] === c) out.push(data.pixels.subarray(i * 784, (i + 1) * 784))
    return out
  }
  const dist = pixelDistance
  const nearest = (x: Uint8Array, pool: Uint8Array[], skip?: number): number =>
    pool.reduce((m, r, i) => (i === skip ? m : Math.min(m, dist(x, r))), Infinity)
  let hits = 0
  let total = 0
  let failing = 0
  console.log('class           real  correct  near-real dist (sample / real-to-real)  recon MSE')
  data.classNames.forEach((name, c) => {
    const real = realOf(c)
    const { pixels } = gen.sample(c, PER_CLASS, 1, 1000 + c)
    const pred = classify(clf, pixels)
    const ok = pred.filter((p) => CLASS_NAMES[p] === name).length
    const sampleNN = pixels.slice(0, 50).reduce((a, s) => a + nearest(s, real), 0) / 50
    const realNN =
      real.slice(0, 50).reduce((a, r, i) => a + nearest(r, real, i), 0) / Math.min(50, real.length)
    const rec = gen.reconstruct(real.slice(0, 100), new Array(Math.min(100, real.length)).fill(c))
    const mse = rec.reduce((a, r, i) => a + dist(r, real[i]) ** 2 / 784, 0) / rec.length
    const counts = real.length >= 20
    if (counts) {
      hits += ok
      total += PER_CLASS
      if (ok / PER_CLASS < 0.85) failing++
    }
    console.log(
      `${name.padEnd(14)} ${String(real.length).padStart(5)}  ${((ok / PER_CLASS) * 100).toFixed(1).padStart(6)}%  ${sampleNN.toFixed(2).padStart(8)} / ${realNN.toFixed(2)}${' '.repeat(24)}${mse.toFixed(4)}${counts ? '' : '  (under 20 real images)'}`,
    )
  })
  console.log(
    `overall: ${((hits / total) * 100).toFixed(1)}% of samples assigned to their class; ${failing} class(es) under the 85% bar`,
  )

  // The app's pipeline: auto-accepted samples of the default generation.
  let accRight = 0
  let accTotal = 0
  let copies = 0
  let diversityFails = 0
  console.log('\nauto-accepted samples of the default generation')
  console.log('class           real  accepted  correct  near-copies  diversity (accepted / real)')
  for (const c of generation.classes) {
    const imgs = accepted.get(c.classIndex) ?? []
    if (!imgs.length) continue
    const real = realOf(c.classIndex)
    const pred = classify(clf, imgs)
    const ok = pred.filter((p) => CLASS_NAMES[p] === c.className).length
    const realNNs = real
      .slice(0, 200)
      .map((r, i) => nearest(r, real, i))
      .sort((a, b) => a - b)
    const typical = realNNs[Math.floor(realNNs.length / 2)]
    const near = imgs.filter((x) => nearest(x, real) < 0.5 * typical).length
    const divA = meanPairwise(imgs)
    const divR = meanPairwise(real)
    const ratio = divA / divR
    accRight += ok
    accTotal += imgs.length
    copies += near
    if (imgs.length >= 2 && ratio < 0.7) diversityFails++
    console.log(
      `${c.className.padEnd(14)} ${String(real.length).padStart(5)}  ${String(imgs.length).padStart(8)}  ${((ok / imgs.length) * 100).toFixed(1).padStart(6)}%  ${String(near).padStart(11)}  ${divA.toFixed(2)} / ${divR.toFixed(2)} = ${(ratio * 100).toFixed(0)}%`,
    )
  }
  console.log(
    `accepted: ${((accRight / accTotal) * 100).toFixed(1)}% assigned to their class (bar 90%); ${copies} near-copies (bar 0); ${diversityFails} class(es) under 70% diversity (bar 0)`,
  )
  if (!existsSync(ckptDir)) throw new Error('no checkpoint')
  if (process.env.SYNTHFOLD_BENCH_KEEP) console.log(`kept: ${work}`)
  else rmSync(work, { recursive: true, force: true })
}

await main()
