#!/usr/bin/env node
// bench/train: Synthfold's default 28x28 conv CVAE (tfjs, best backend here) against the identical
// architecture in PyTorch (Debian's python3-torch, OpenBLAS pthreads, 2 threads, OMP_WAIT_POLICY=PASSIVE),
// in the same script. Usage: npm run bench:train [-- STEPS]
import { spawnSync } from 'node:child_process'

const steps = process.argv[2] ?? '40'
function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } })
  if (r.status !== 0) throw new Error(`${cmd} failed:\n${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}
// Synthfold picks the balanced preset's batch size (BATCH=N overrides it); PyTorch gets the same.
const ours = run(process.execPath, ['--import', 'tsx', 'bench/train/tfjs-cvae.ts', steps], {})
const torch = run(process.env.PYTHON ?? '/usr/bin/python3', ['bench/train/torch_cvae.py', steps], {
  OMP_WAIT_POLICY: 'PASSIVE',
  THREADS: '2',
  BATCH: String(ours.batchSize),
})
const f = (v) => Math.round(v).toLocaleString('en-US')
console.log(
  `bench/train: default 28x28 conv CVAE, batch ${ours.batchSize}, ${steps} timed steps after warm-up`,
)
console.log(`  synthfold (${ours.backend}, ${ours.device})`)
console.log(
  `             train ${f(ours.trainImagesPerSecond)} images/s   generate ${f(ours.samplesPerSecond)} samples/s   peak RSS ${f(ours.peakRssMb)} MB`,
)
console.log(`  pytorch ${torch.torch} (${torch.threads} threads)`)
console.log(
  `             train ${f(torch.trainImagesPerSecond)} images/s   generate ${f(torch.samplesPerSecond)} samples/s   peak RSS ${f(torch.peakRssMb)} MB`,
)
console.log(
  `  ratio      train ${(ours.trainImagesPerSecond / torch.trainImagesPerSecond).toFixed(2)}x   generate ${(ours.samplesPerSecond / torch.samplesPerSecond).toFixed(2)}x PyTorch (target >= 1x)`,
)
