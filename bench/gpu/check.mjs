/* global window, document */
// The GPU check for a machine with a GPU (issue 22): the WebGPU adapter Chromium gives, the
// numeric check of every family against cpu, and training images/s on WebGPU at 28 px gray and
// 64 px RGB (batch 64), beside the cpu backend on the same page as this script's reference.
// Run through bench/gpu/check.sh (it builds first). Needs Chromium (CHROMIUM_PATH, default
// /usr/bin/chromium) and `npm run build`. SYNTHFOLD_GPU_SOFTWARE=1 uses SwiftShader (no GPU:
// correct but slow; what test/e2e/gpu.spec.ts uses). SYNTHFOLD_GPU_QUICK=1 shrinks the speed runs.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright'

const software = process.env.SYNTHFOLD_GPU_SOFTWARE === '1'
const quick = process.env.SYNTHFOLD_GPU_QUICK === '1'
const args = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-timer-throttling',
  ...(software
    ? ['--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader']
    : []),
]

const home = mkdtempSync(join(tmpdir(), 'synthfold-gpu-check-'))
const host = spawn(process.execPath, ['out/main/web.js'], {
  env: { ...process.env, SYNTHFOLD_HOME: home },
  stdio: ['ignore', 'pipe', 'pipe'],
})
const url = await new Promise((resolve, reject) => {
  let log = ''
  const timer = setTimeout(() => reject(new Error(`web host did not start:\n${log}`)), 30_000)
  const onData = (d) => {
    log += d
    const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(log)
    if (m) {
      clearTimeout(timer)
      resolve(m[1])
    }
  }
  host.stdout.on('data', onData)
  host.stderr.on('data', onData)
})

/** Seeded synthetic images: a class-dependent blob per channel on noise. */
function images(size, channels, count, classes = 4) {
  let seed = 7
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
  const pixels = []
  const labels = []
  for (let i = 0; i < count; i++) {
    const c = i % classes
    labels.push(c)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let ch = 0; ch < channels; ch++) {
          const cx = ((c + 1 + ch * 0.3) * size) / (classes + 1)
          const d = Math.hypot(x - cx, y - size / 2)
          pixels.push(
            Math.min(255, Math.round(200 * Math.exp(-(d * d) / (size * 1.5)) + 40 * rand())),
          )
        }
  }
  return {
    size,
    channels,
    classNames: Array.from({ length: classes }, (_, c) => `c${c}`),
    pixels,
    labels,
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args,
})
let failed = false
try {
  const page = await browser.newPage()
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`))
  await page.goto(url)
  await page.goto(new URL('/gpu.html', url).href)
  await page.waitForFunction(() => document.body.dataset.ready === 'true')
  const adapter = await page.evaluate(() => window.synthfoldGpu.adapter())
  console.log('adapter:', JSON.stringify(adapter, null, 2))
  if (!adapter.available) throw new Error(`no WebGPU adapter: ${adapter.reason}`)
  if (adapter.isFallbackAdapter && !software)
    console.log("note: this is a software (fallback) adapter: speeds below are not a GPU's")

  console.log('\nnumeric check, webgpu against cpu (tolerances as in test/e2e/gpu.spec.ts):')
  for (const family of ['cvae', 'wae', 'vqvae']) {
    const r = await page.evaluate((f) => window.synthfoldGpu.check(f, 'webgpu', 'cpu'), family)
    const ok =
      r.lossRelDiff < 1e-4 &&
      r.weightAbsDiff < 0.1 * r.learningRate &&
      r.pixelAbsDiff <= (family === 'vqvae' ? 1 / 255 + 1e-6 : 1e-3)
    failed ||= !ok
    console.log(
      `  ${family.padEnd(5)} ${ok ? 'ok  ' : 'FAIL'} losses rel ${r.lossRelDiff.toExponential(2)}, weights abs ${r.weightAbsDiff.toExponential(2)} (lr ${r.learningRate}), pixels ${r.pixelAbsDiff.toExponential(2)}`,
    )
  }

  console.log(
    '\ntraining speed, cvae, batch 64 (images/s of the last epoch; the first compiles shaders):',
  )
  const shapes = [
    ['28 px gray', 28, 1],
    ['64 px RGB', 64, 3],
  ]
  for (const [name, size, channels] of shapes) {
    const data = images(size, channels, quick ? 128 : 512)
    const speed = {}
    for (const backend of ['webgpu', 'cpu']) {
      const r = await page.evaluate(
        ([d, b, e]) =>
          window.synthfoldGpu.run(d, b, 'cvae', {
            epochs: e,
            batchSize: 64,
            validationSplit: 0,
            seed: 1,
          }),
        [data, backend, backend === 'cpu' || quick ? 2 : 3],
      )
      speed[backend] = r.epochImagesPerSecond.at(-1)
    }
    console.log(
      `  ${name.padEnd(10)} webgpu ${speed.webgpu.toFixed(1)} images/s, cpu ${speed.cpu.toFixed(1)} images/s: ${(speed.webgpu / speed.cpu).toFixed(2)}x cpu`,
    )
  }
  console.log(
    "\n(wasm, the CLI's backend, and PyTorch: `npm run bench:train` on the same machine.)",
  )
} finally {
  await browser.close()
  host.kill('SIGTERM')
  rmSync(home, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
