// bench/train/profile.ts: where one training step's time goes, kernel by kernel, on Synthfold's
// side of bench/train (setup.ts: the same model, SIZE / CHANNELS / BATCH as there). Every kernel
// registered for the backend is wrapped in a timer for STEPS steps after the warm-up; a kernel's
// time is its own (kernels it starts through the registry are counted under their own names).
// Prints a table: kernel, input shapes, ms a step, share of the step. The rest of the step
// ("outside kernels") is the tape, the optimiser's bookkeeping and the JavaScript around them.
// Usage: node --import tsx bench/train/profile.ts [STEPS]; `python3 bench/train/torch_cvae.py`
// with PROFILE=1 prints PyTorch's own profile of the same step.
import * as tf from '@tensorflow/tfjs-core'
import { benchModel, WARMUP } from './setup'

const steps = Number(process.argv[2] ?? 20)
const { trainer, info, batchSize, simdPath } = await benchModel(steps)
const backendName = tf.getBackend()

interface Row {
  ms: number
  calls: number
}
const rows = new Map<string, Row>()
let on = false
/** Time spent by kernels started inside the running one, per level of nesting. */
const childTime: number[] = []

const shapeOf = (t: unknown): string =>
  t && typeof t === 'object' && 'shape' in t ? (t as { shape: number[] }).shape.join('x') : '?'

for (const config of tf.getKernelsForBackend(backendName)) {
  const inner = config.kernelFunc
  tf.unregisterKernel(config.kernelName, backendName)
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      if (!on) return inner(args)
      childTime.push(0)
      const t0 = performance.now()
      try {
        return inner(args)
      } finally {
        const total = performance.now() - t0
        const own = total - (childTime.pop() ?? 0)
        if (childTime.length > 0) childTime[childTime.length - 1] += total
        const shapes = Object.values(args.inputs).map(shapeOf).join(', ')
        const key = `${config.kernelName}\t${shapes}`
        const row = rows.get(key) ?? { ms: 0, calls: 0 }
        row.ms += own
        row.calls++
        rows.set(key, row)
      }
    },
  })
}

let t0 = 0
let t1 = 0
let timed = 0
await trainer.trainEpoch(
  (p) => {
    if (p.batch === WARMUP) {
      on = true
      t0 = performance.now()
    }
    if (p.batch > WARMUP && timed < steps) {
      timed++
      t1 = performance.now()
      // the epoch's closing passes (latent statistics) are not training steps
      if (timed === steps) on = false
    }
  },
  () => false,
)
on = false
const stepMs = (t1 - t0) / timed
const perStep = [...rows].map(([key, r]) => {
  const [name, shapes] = key.split('\t')
  return { name, shapes, ms: r.ms / timed, calls: r.calls / timed }
})
const inKernels = perStep.reduce((s, r) => s + r.ms, 0)
const byName = new Map<string, number>()
for (const r of perStep) byName.set(r.name, (byName.get(r.name) ?? 0) + r.ms)
const pct = (ms: number): string => `${((100 * ms) / stepMs).toFixed(1)}%`
const size = process.env.SIZE ?? '28'
console.log(
  `profile: ${size}x${size}x${process.env.CHANNELS ?? 1} CVAE, batch ${batchSize}, ${info.device}, SIMD kernels ${simdPath ?? 'none'}; ${timed} steps after ${WARMUP} warm-up`,
)
console.log(
  `step ${stepMs.toFixed(2)} ms (${Math.round((batchSize * 1000) / stepMs)} images/s with the timers on); in kernels ${inKernels.toFixed(2)} ms (${pct(inKernels)})`,
)
console.log('\nby kernel:')
for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 16))
  console.log(`  ${name.padEnd(28)} ${ms.toFixed(3).padStart(8)} ms  ${pct(ms).padStart(6)}`)
console.log(
  `  ${'outside kernels'.padEnd(28)} ${(stepMs - inKernels).toFixed(3).padStart(8)} ms  ${pct(stepMs - inKernels).padStart(6)}`,
)
console.log('\nby kernel and shape (top 20):')
for (const r of perStep.sort((a, b) => b.ms - a.ms).slice(0, 20))
  console.log(
    `  ${r.name.padEnd(28)} ${r.ms.toFixed(3).padStart(8)} ms  ${pct(r.ms).padStart(6)}  x${r.calls}  ${r.shapes}`,
  )
