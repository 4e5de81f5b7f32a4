// bench/train/ab.ts: two settings of Synthfold's kernels compared in one process, on the model of
// bench/train (setup.ts: SIZE / CHANNELS / BATCH as there). The run alternates blocks of BLOCK
// steps (default 8) between the two arms, BLOCKS per arm (default 8; the first block of each
// arm is a warm-up and not counted), so that a machine whose load changes slows both alike.
// Prints each arm's median step time over its blocks and the ratio. AB picks the comparison:
//   AB=relaxed  the relaxed-SIMD build of the kernels against the plain one (default)
//   AB=spin     pool workers spinning SPIN checks (default 20000) before they sleep, against 0
//   AB=matmul   matrix products on Synthfold's pool (matmul-job.ts) against XNNPACK
// LOAD=1 runs bench/train/burn.mjs (one busy thread) beside it for the whole run.
// Usage: node --import tsx bench/train/ab.ts
import { spawn } from 'node:child_process'
import { setPoolMatMulEnabled } from '../../src/core/accel/matmul'
import { setPoolSpin } from '../../src/core/accel/pool'
import { setRelaxedSimdEnabled } from '../../src/core/accel/simd-module'
import { benchModel, WARMUP } from './setup'

const which = process.env.AB ?? 'relaxed'
const block = Number(process.env.BLOCK) || 8
const blocks = Number(process.env.BLOCKS) || 8
const spinChecks = Number(process.env.SPIN) || 20_000
const arms =
  which === 'spin'
    ? [
        { name: `spin ${spinChecks}`, apply: () => setPoolSpin(spinChecks) },
        { name: 'spin 0', apply: () => setPoolSpin(0) },
      ]
    : which === 'matmul'
      ? [
          { name: 'pool gemm', apply: () => setPoolMatMulEnabled(true) },
          { name: 'xnnpack', apply: () => setPoolMatMulEnabled(false) },
        ]
      : [
          { name: 'relaxed', apply: () => setRelaxedSimdEnabled(true) },
          { name: 'plain', apply: () => setRelaxedSimdEnabled(false) },
        ]
const burner =
  process.env.LOAD === '1'
    ? spawn(process.execPath, ['bench/train/burn.mjs', String(process.pid)], { stdio: 'ignore' })
    : null
process.on('exit', () => burner?.kill('SIGKILL'))

const steps = block * blocks * arms.length
const { trainer, info, batchSize } = await benchModel(steps)
const times: number[][] = arms.map(() => [])
let t0 = 0
await trainer.trainEpoch(
  (p) => {
    if (p.batch < WARMUP) return
    const b = p.batch - WARMUP // steps done since the warm-up
    if (b > 0 && b % block === 0) {
      const arm = (b / block - 1) % arms.length
      const round = Math.floor((b / block - 1) / arms.length)
      if (round > 0) times[arm].push((performance.now() - t0) / block)
    }
    if (b < steps && b % block === 0) {
      arms[(b / block) % arms.length].apply()
      t0 = performance.now()
    }
  },
  () => false,
)
burner?.kill('SIGKILL')
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const size = process.env.SIZE ?? '28'
console.log(
  `ab (${which}): ${size}x${size}x${process.env.CHANNELS ?? 1} CVAE, batch ${batchSize}, ${info.device}; ${blocks - 1} blocks of ${block} steps per arm${burner ? ', LOAD=1' : ''}`,
)
for (const [i, arm] of arms.entries())
  console.log(
    `  ${arm.name.padEnd(12)} median ${median(times[i]).toFixed(2)} ms a step (${Math.round((1000 * batchSize) / median(times[i]))} images/s); blocks ${times[i].map((t) => t.toFixed(1)).join(' ')}`,
  )
const ratios = times[0].map((t, i) => times[1][i] / t)
console.log(
  `  ${arms[0].name} is ${median(ratios).toFixed(3)}x as fast as ${arms[1].name} (median of the paired blocks; range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)})`,
)
