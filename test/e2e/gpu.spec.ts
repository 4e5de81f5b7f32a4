import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Page } from '@playwright/test'
import { expect, test, type Host } from './fixtures'
import type {
  FamilyCheck,
  GpuAdapterReport,
  GpuPageApi,
  GpuPageImages,
  PageRunResult,
} from '../../src/shared/gpu'

/*
 * The GPU trainer page (src/renderer/gpu.html) in Debian's Chromium on its WebGPU adapter (here
 * SwiftShader, a software adapter): the core's trainers on tfjs-backend-webgpu against the cpu
 * backend, every family, and a short whole run of the shipped sample. Without an adapter the
 * tests skip and say why.
 *
 * Tolerances, and why they are what they are (figures seen on SwiftShader in the commit that
 * added this test: losses 5e-7, pixels 2.4e-7, weights 2.2e-4):
 * - each step's loss within 1e-4 relative: float32 sums in another order differ by ~1e-7;
 * - every weight within a tenth of the learning rate after the steps: Adam moves an element by up
 *   to the learning rate a step whatever its gradient's size, so where a gradient is near zero a
 *   rounding difference in it changes that element's step by a fraction of the rate (seen: 4%);
 *   a wrong gradient moves elements by whole steps;
 * - generated pixels (in [0, 1]) within 1e-3 (the VQ-VAE's are rounded to 1/255: within 1/255).
 */

// WebGPU on SwiftShader through Vulkan: without these, reading a tensor back synchronously
// (tfjs's webgpu readSync, through an OffscreenCanvas) loses the WebGPU instance.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-vulkan=swiftshader',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  },
})

declare global {
  interface Window {
    synthfoldGpu?: GpuPageApi
  }
}

/** Opens the GPU page on the web host; skips the test (saying why) where WebGPU is absent. */
async function openGpuPage(page: Page, host: Host, problems: string[]): Promise<GpuAdapterReport> {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  await page.goto(host.url) // hands the browser its access cookie
  await page.goto(new URL('/gpu.html', host.url).href)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  const adapter = await page.evaluate(() => window.synthfoldGpu!.adapter())
  const { vendor, architecture, isFallbackAdapter, limits } = adapter
  console.log(
    `WebGPU adapter: ${JSON.stringify({ vendor, architecture, isFallbackAdapter, limits })}`,
  )
  if (!adapter.available) console.log(`skipping: no WebGPU adapter (${adapter.reason})`)
  test.skip(!adapter.available, `no WebGPU adapter in this Chromium: ${adapter.reason}`)
  return adapter
}

for (const family of ['cvae', 'wae', 'vqvae'] as const) {
  test(`${family}: training steps on WebGPU match the cpu backend`, async ({ page, host }) => {
    test.setTimeout(300_000)
    const problems: string[] = []
    const adapter = await openGpuPage(page, host, problems)
    expect(adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0)
    const r: FamilyCheck = await page.evaluate(
      (f) => window.synthfoldGpu!.check(f, 'webgpu', 'cpu'),
      family,
    )
    console.log(
      `${family}: losses rel ${r.lossRelDiff.toExponential(2)}, weights abs ${r.weightAbsDiff.toExponential(2)} (largest weight ${r.weightScale.toFixed(3)}, at ${r.worstVariable}), pixels ${r.pixelAbsDiff.toExponential(2)}; cpu ${r.referenceSeconds.toFixed(1)} s, webgpu ${r.targetSeconds.toFixed(1)} s`,
    )
    expect(r.referenceLosses.length).toBeGreaterThanOrEqual(3)
    expect(r.targetLosses).toHaveLength(r.referenceLosses.length)
    for (const l of [...r.referenceLosses, ...r.targetLosses]) expect(Number.isFinite(l)).toBe(true)
    expect(r.lossRelDiff).toBeLessThan(1e-4)
    expect(r.weightAbsDiff).toBeLessThan(0.1 * r.learningRate)
    expect(r.pixelAbsDiff).toBeLessThanOrEqual(family === 'vqvae' ? 1 / 255 + 1e-6 : 1e-3)
    expect(problems).toEqual([])
  })
}

/** The shipped sample as 28 px gray images (the broken files it carries on purpose left out). */
async function sampleImages(): Promise<GpuPageImages> {
  const root = join(process.cwd(), 'resources', 'sample-fashion-mnist')
  const classNames = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
  const pixels: number[] = []
  const labels: number[] = []
  for (const [c, name] of classNames.entries())
    for (const file of readdirSync(join(root, name)).sort()) {
      const raw = await sharp(join(root, name, file))
        .greyscale()
        .resize(28, 28)
        .raw()
        .toBuffer()
        .catch(() => null)
      if (!raw || raw.length !== 28 * 28) continue
      pixels.push(...raw)
      labels.push(c)
    }
  return { size: 28, channels: 1, classNames, pixels, labels }
}

test('a short whole run of the shipped sample completes on WebGPU', async ({ page, host }) => {
  test.setTimeout(600_000)
  const problems: string[] = []
  await openGpuPage(page, host, problems)
  const images = await sampleImages()
  expect(images.labels.length).toBeGreaterThan(300)
  const epochs = 3
  const r: PageRunResult = await page.evaluate(
    ([im, e]) =>
      window.synthfoldGpu!.run(im, 'webgpu', 'cvae', {
        epochs: e,
        batchSize: 32,
        baseFilters: 8,
        latentDim: 8,
        klWarmupEpochs: 0,
        seed: 3,
      }),
    [images, epochs] as const,
  )
  console.log(
    `sample run on webgpu: losses ${r.losses.map((l) => l.toFixed(1)).join(', ')}; ${r.imagesPerSecond.toFixed(1)} images/s; ${r.seconds.toFixed(0)} s`,
  )
  expect(r.backend).toBe('webgpu')
  expect(r.losses).toHaveLength(epochs)
  for (const l of r.losses) expect(Number.isFinite(l)).toBe(true)
  expect(r.losses[epochs - 1]).toBeLessThan(r.losses[0])
  expect(r.generatedStd).toBeGreaterThan(0.01)
  expect(r.generatedMean).toBeGreaterThan(0)
  expect(r.generatedMean).toBeLessThan(1)
  expect(problems).toEqual([])
})
