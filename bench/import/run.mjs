#!/usr/bin/env node
// bench/import: Synthfold's import vs a Python/Pillow loop on the same folder of Fashion-MNIST PNGs.
// Usage: npm run bench:import [-- N]   (N images, default 20000; needs dataset-fashion-mnist and python3-pil)
// Synthfold runs as the built CLI (npm run build first); its time is the import job's own clock,
// from the request to the final commit, worker start-up included. Peak memory comes from
// /usr/bin/time when installed (Debian package `time`).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeFolder } from './make-folder.mjs'

const n = Number(process.argv[2] ?? 20000)
const dir = await makeFolder(join(tmpdir(), `synthfold-bench-fmnist-${n}`), n)
const python = process.env.PYTHON ?? '/usr/bin/python3'
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null
if (!existsSync('out/main/cli.js')) throw new Error('Build first: npm run build')

function once(cmd, args, env = {}) {
  const [c, a] = timeBin ? [timeBin, ['-f', 'PEAK_KB %M', cmd, ...args]] : [cmd, args]
  const r = spawnSync(c, a, { encoding: 'utf8', env: { ...process.env, ...env } })
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`)
  const json = JSON.parse(r.stdout.trim().split('\n').pop())
  const m = /PEAK_KB (\d+)/.exec(r.stderr)
  return { imported: json.imported, seconds: json.seconds, peakMb: m ? Number(m[1]) / 1024 : NaN }
}

const best = (runs) => runs.sort((a, b) => a.seconds - b.seconds)[0]
const ours = best(
  [0, 1, 2].map(() => {
    const home = mkdtempSync(join(tmpdir(), 'synthfold-bench-'))
    try {
      const args = [
        'out/main/cli.js',
        'import',
        dir,
        '--size',
        '28',
        '--channels',
        'gray',
        '--json',
      ]
      return once(process.execPath, args, { SYNTHFOLD_HOME: home })
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }),
)
const pil = best([0, 1, 2].map(() => once(python, ['bench/import/pil_loop.py', dir, '28'])))

const rate = (r) => r.imported / r.seconds
const mb = (v) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(0)} MB`)
const line = (name, r) =>
  `  ${name.padEnd(10)} ${r.imported} images  ${r.seconds.toFixed(2)} s  ${rate(r).toFixed(0)} images/s  peak RSS ${mb(r.peakMb)}`
console.log(`bench/import: ${n} Fashion-MNIST PNGs (28x28 gray), best of 3`)
console.log(line('synthfold', ours))
console.log(line('PIL loop', pil))
console.log(
  `  ratio      ${(rate(ours) / rate(pil)).toFixed(2)}x the PIL loop's speed (target >= 2x)`,
)
