// How well a run's per-class forecast (src/shared/forecast.ts) foretells the default generation:
// per class, the forecast's pass rate and share against the generation's accepted / tried, and
// which classes the forecast calls weak against those that did not fill.
// `node --import tsx bench/quality/forecast.ts [sample] [fmnist-300]`
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { initBackend } from '../../src/core/accel/backend'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'
import { runDefaultPath } from './pipeline'
import { forecastShare, weakClasses, WEAK_CLASS_BAR } from '../../src/shared/forecast'

const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

async function longTail(work: string, total: number, imbalance: number): Promise<string> {
  const test = loadFashionMnist('t10k')
  const ratios = CLASS_NAMES.map((_, c) => imbalance ** (-c / (CLASS_NAMES.length - 1)))
  const scale = total / ratios.reduce((a, b) => a + b, 0)
  const want = ratios.map((r) => Math.max(2, Math.round(r * scale)))
  const folder = join(work, `fmnist-${total}`)
  const have = CLASS_NAMES.map(() => 0)
  for (let i = 0; i < test.n; i++) {
    const c = test.label(i)
    if (have[c] >= want[c]) continue
    have[c]++
    mkdirSync(join(folder, CLASS_NAMES[c]), { recursive: true })
    const png = await sharp(Buffer.from(test.pixels(i)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    writeFileSync(join(folder, CLASS_NAMES[c], `${i}.png`), png)
  }
  return folder
}

const CASES: Record<string, (work: string) => Promise<string>> = {
  sample: async () => SAMPLE,
  'fmnist-300': (work) => longTail(work, 300, 10),
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`.padStart(4)

await initBackend('auto')
const wanted = process.argv.slice(2)
for (const name of wanted.length ? wanted : ['sample']) {
  const work = mkdtempSync(join(tmpdir(), `synthfold-forecast-${name}-`))
  try {
    const r = await runDefaultPath(join(work, 'home'), await CASES[name](work))
    const f = r.run.forecast
    if (!f) throw new Error('the run has no forecast')
    console.log(
      `${name}: classifier ${f.classifierAccuracy === null ? '-' : pct(f.classifierAccuracy)} on ${f.heldOut} held out; forecast took ${f.seconds.toFixed(1)} s; weak below ${pct(WEAK_CLASS_BAR)}`,
    )
    console.log(
      'class           held out  fc pass  nn in/real  fc share | planned  accepted  tried  pass rate',
    )
    for (const k of r.generation.classes) {
      const c = f.classes[k.classIndex]
      console.log(
        [
          k.className.padEnd(14),
          `${c.heldOutAccuracy === null ? '   -' : pct(c.heldOutAccuracy)} of ${String(c.heldOut).padEnd(3)}`,
          pct(c.passed / c.tried).padStart(7),
          `${pct(c.nearestInClass)} / ${c.realNearestInClass === null ? '  -' : pct(c.realNearestInClass)}`.padStart(
            11,
          ),
          pct(forecastShare(c)).padStart(9),
          '|',
          String(k.planned).padStart(7),
          String(k.accepted).padStart(9),
          String(k.generated).padStart(6),
          pct(k.generated ? k.accepted / k.generated : 0).padStart(10),
          ` fc rejected ${JSON.stringify(c.rejected)} generation ${JSON.stringify(k.filtered)}`,
        ].join(' '),
      )
    }
    const weak = weakClasses(f).map((w) => f.classes[w.classIndex].className)
    const short = r.generation.classes.filter((k) => k.accepted < k.planned).map((k) => k.className)
    console.log(
      `forecast weak: ${weak.join(', ') || 'none'}; short of plan: ${short.join(', ') || 'none'}`,
    )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
