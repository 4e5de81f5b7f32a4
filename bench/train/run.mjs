#!/usr/bin/env node
// bench/train: Synthfold's default conv CVAE (tfjs, best backend here) against the identical
// architecture in PyTorch (Debian's python3-torch, OpenBLAS pthreads, 2 threads, OMP_WAIT_POLICY=PASSIVE),
// in the same script. Usage: npm run bench:train [-- STEPS]; ROUNDS=N (default 3) runs both N times,
// alternating which goes first, and reports medians: on a shared machine one pair says little.
// SIZE=64 CHANNELS=3 (default 28 and 1) times colour images with the Gaussian likelihood
// (RECONSTRUCTION=bce overrides), PyTorch the identical network with the same loss. LOAD=1 runs a
// CPU-burning helper (burn.mjs: one busy thread) beside both sides for the whole measurement, as
// another program would on a person's machine; it is stopped at the end, and ends by itself if
// this script dies. SYNTHFOLD_RELAXED_SIMD=0 times Synthfold's plain-SIMD kernels.
import { spawn, spawnSync } from 'node:child_process'

const steps = process.argv[2] ?? '40'
const rounds = Math.max(1, Number(process.env.ROUNDS) || 3)
const load = process.env.LOAD === '1'
let burner = null
if (load) {
  burner = spawn(process.execPath, ['bench/train/burn.mjs', String(process.pid)], {
    stdio: 'ignore',
  })
  const stop = () => burner?.kill('SIGKILL')
  process.on('exit', stop)
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
      stop()
      process.exit(130)
    })
}
function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } })
  if (r.status !== 0) throw new Error(`${cmd} failed:\n${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}
// Synthfold picks the balanced preset's batch size (BATCH=N overrides it); PyTorch gets the same.
const runOurs = () =>
  run(process.execPath, ['--import', 'tsx', 'bench/train/tfjs-cvae.ts', steps], {})
// PyTorch gets the shape and loss Synthfold resolved for these images (latent size, width, loss).
const runTorch = (o) =>
  run(process.env.PYTHON ?? '/usr/bin/python3', ['bench/train/torch_cvae.py', steps], {
    OMP_WAIT_POLICY: 'PASSIVE',
    THREADS: '2',
    BATCH: String(o.batchSize),
    LATENT: String(o.latentDim),
    BASE: String(o.baseFilters),
    RECONSTRUCTION: o.reconstruction,
  })
const pairs = []
for (let i = 0; i < rounds; i++) {
  if (i % 2 === 0) {
    const ours = runOurs()
    pairs.push({ ours, torch: runTorch(ours) })
  } else {
    const torch = runTorch(pairs[0].ours)
    pairs.push({ ours: runOurs(), torch })
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const side = (key) => ({
  train: median(pairs.map((p) => p[key].trainImagesPerSecond)),
  gen: median(pairs.map((p) => p[key].samplesPerSecond)),
  rss: Math.max(...pairs.map((p) => p[key].peakRssMb)),
})
if (burner) {
  burner.kill('SIGKILL')
  burner = null
}
const [ours, torch] = [side('ours'), side('torch')]
const trainRatios = pairs.map((p) => p.ours.trainImagesPerSecond / p.torch.trainImagesPerSecond)
const genRatios = pairs.map((p) => p.ours.samplesPerSecond / p.torch.samplesPerSecond)
const f = (v) => Math.round(v).toLocaleString('en-US')
const { ours: first, torch: firstTorch } = pairs[0]
console.log(
  `bench/train: default ${process.env.SIZE ?? 28}x${process.env.SIZE ?? 28}x${process.env.CHANNELS ?? 1} conv CVAE, ${first.reconstruction} loss, batch ${first.batchSize}, ${steps} timed steps after 20 warm-up steps, ${rounds} round${rounds > 1 ? 's' : ''} (medians)${load ? ', LOAD=1 (one busy thread beside both sides)' : ''}`,
)
console.log(
  `  synthfold (${first.backend}, ${first.device}; SIMD kernels: ${first.simdPath ?? 'none'})`,
)
console.log(
  `             train ${f(ours.train)} images/s   generate ${f(ours.gen)} samples/s   peak RSS ${f(ours.rss)} MB`,
)
console.log(`  pytorch ${firstTorch.torch} (${firstTorch.threads} threads)`)
console.log(
  `             train ${f(torch.train)} images/s   generate ${f(torch.gen)} samples/s   peak RSS ${f(torch.rss)} MB`,
)
console.log(
  `  ratio      train ${median(trainRatios).toFixed(2)}x   generate ${median(genRatios).toFixed(2)}x PyTorch (target >= 1x; median of the rounds' ratios)`,
)
if (rounds > 1)
  console.log(
    `  rounds     train ${trainRatios.map((r) => `${r.toFixed(2)}x`).join(' ')}   generate ${genRatios.map((r) => `${r.toFixed(2)}x`).join(' ')}`,
  )
