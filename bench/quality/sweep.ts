// bench/quality/sweep.ts: a quick comparison of training settings on bench/quality's subset.
// Trains in this process (no import, no database), then judges 200 samples a class from the prior
// with the same seeded judge as bench/quality (cached in $TMPDIR: bench/quality/judge.ts).
// Usage: node --import tsx bench/quality/sweep.ts '{"learningRate":0.003}' ['{"batchSize":128}' ...]
//        EVAL_AT=20,30 also judges the checkpoints after those epochs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initBackend } from '../../src/core/accel/backend'
import { saveCheckpoint } from '../../src/core/training/checkpoint'
import type { TrainingData } from '../../src/core/training/data'
import { Generator } from '../../src/core/generation/generator'
import { Trainer } from '../../src/core/training/trainer'
import { resolveSettings } from '../../src/shared/train-settings'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { cachedJudge, classify, subsetIndices } from './judge'

await initBackend('auto')
const train = loadFashionMnist('train')
// Class folders sort by name in the app; the subset's labels follow that order here too.
const names = [...CLASS_NAMES].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
const picked = subsetIndices(train)
const data: TrainingData = {
  size: 28,
  channels: 1,
  classNames: names,
  count: picked.length,
  pixels: new Uint8Array(picked.length * 784),
  labels: new Int32Array(picked.length),
  ids: Int32Array.from(picked, (_, k) => k + 1),
}
picked.forEach((i, k) => {
  data.pixels.set(train.pixels(i), k * 784)
  data.labels[k] = names.indexOf(CLASS_NAMES[train.label(i)])
})

const judge = await cachedJudge(train)

const evalAt = new Set((process.env.EVAL_AT ?? '').split(',').filter(Boolean).map(Number))
for (const arg of process.argv.slice(2).length ? process.argv.slice(2) : ['{}']) {
  const overrides = JSON.parse(arg) as object
  const settings = resolveSettings(overrides, { size: 28, channels: 1, imageCount: data.count })
  const trainer = new Trainer(data, settings)
  const dir = mkdtempSync(join(tmpdir(), 'synthfold-sweep-'))
  const report = async (tag: string): Promise<void> => {
    await saveCheckpoint(trainer, join(dir, 'ckpt'), null)
    const gen = Generator.load(join(dir, 'ckpt'))
    let hits = 0
    const per = names.map((name, c) => {
      const { pixels } = gen.sample(c, 200, 1, 1000 + c)
      const ok = Array.from(classify(judge, pixels)).filter((p) => CLASS_NAMES[p] === name).length
      hits += ok
      return `${name} ${(ok / 2).toFixed(1)}%`
    })
    gen.dispose()
    console.log(`  ${tag}: ${(hits / (2 * names.length)).toFixed(1)}% overall | ${per.join(', ')}`)
  }
  const t0 = performance.now()
  let trainSeconds = 0
  while (trainer.epoch < settings.epochs) {
    const m = await trainer.trainEpoch(
      () => {},
      () => false,
    )
    if (!m) break
    trainSeconds += m.seconds
    if (evalAt.has(trainer.epoch)) await report(`after epoch ${trainer.epoch}`)
  }
  console.log(
    `${JSON.stringify(overrides)}: ${settings.epochs} epochs, ${trainSeconds.toFixed(0)} s of training (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`,
  )
  await report('last epoch')
  trainer.dispose()
  rmSync(dir, { recursive: true, force: true })
}
