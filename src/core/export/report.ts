/**
 * The export's report.html: class counts before and after, a sample sheet per class (real images
 * on top, synthetic below), and the settings and metrics of the runs that made the samples.
 * One self-contained file (images inline), so no extra folder appears among the class folders.
 */
import sharp, { type OverlayOptions } from 'sharp'
import type { ExportClassCount, ExportOptions, MixedSizes } from '../../shared/export'
import {
  ARM_LABELS,
  ARM_NAMES,
  SYNTHETIC_ARMS,
  suggestedSyntheticWeight,
  type EvaluationSummary,
} from '../../shared/evaluation'
import type { PlannedFile } from './contents'

export interface ReportRun {
  generationId: number
  runId: number
  accepted: number
  settings: Record<string, unknown>
  epochsDone: number
  bestValLoss: number | null
  classifierAccuracy: number | null
  temperature: number
  filters: Record<string, number | string>
}

const CELL = 56
const PER_ROW = 8

/** A sheet of up to 8 real and 16 synthetic images of one class, as PNG. */
export async function classSheet(files: PlannedFile[]): Promise<Buffer | null> {
  const real = files.filter((f) => !f.synthetic).slice(0, PER_ROW)
  const synth = files.filter((f) => f.synthetic).slice(0, PER_ROW * 2)
  const rows = [real, synth.slice(0, PER_ROW), synth.slice(PER_ROW)].filter((r) => r.length)
  if (!rows.length) return null
  const tiles: OverlayOptions[] = []
  for (let r = 0; r < rows.length; r++)
    for (let c = 0; c < rows[r].length; c++) {
      const input = await sharp(rows[r][c].preview)
        .resize(CELL, CELL, { fit: 'contain', kernel: 'nearest', background: '#111' })
        .png()
        .toBuffer()
        .catch(() => null)
      if (input) tiles.push({ input, left: c * (CELL + 2), top: r * (CELL + 2) })
    }
  return sharp({
    create: {
      width: PER_ROW * (CELL + 2),
      height: rows.length * (CELL + 2),
      channels: 3,
      background: '#ffffff',
    },
  })
    .composite(tiles)
    .png()
    .toBuffer()
}

const MONTHS =
  'January February March April May June July August September October November December'.split(' ')

/** "2 December 2026, 18:40 UTC": the same for every reader, wherever the export is opened. */
export function reportDate(d: Date): string {
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hm} UTC`
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–')

/**
 * "Does it help?": a generation's latest completed downstream check, as a table of arms (balanced
 * accuracy ± spread over seeds, macro-F1), its verdict and the loss weight the export applied.
 */
export function evaluationSection(e: EvaluationSummary): string {
  const rows = ARM_NAMES.map((n) => e.arms.find((a) => a.name === n))
    .filter((a) => a !== undefined)
    .map(
      (a) =>
        `<tr${a.name === e.best ? ' class=best' : ''} data-arm="${a.name}"><td>${esc(ARM_LABELS[a.name])}${a.name === e.best ? ' <strong>(best)</strong>' : ''}</td><td>${SYNTHETIC_ARMS.includes(a.name) ? 'yes' : 'no'}</td><td class=n>${pct(a.balancedAccuracy)}${a.seeds.length > 1 ? ` ± ${(a.spread * 100).toFixed(1)}` : ''}</td><td class=n>${pct(a.macroF1)}</td></tr>`,
    )
    .join('\n')
  const held = e.heldOut.reduce((a, h) => a + h.count, 0)
  const none = e.heldOut.filter((h) => h.count === 0).map((h) => h.class)
  const weight = suggestedSyntheticWeight(e)
  return `<h3>Generation #${e.generationId}</h3>
<p data-testid="report-verdict"><strong>${esc(e.verdict ?? '')}</strong></p>
<table data-testid="report-evaluation"><thead><tr><th>Arm</th><th>Synthetic images</th><th>Balanced accuracy</th><th>Macro-F1</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class=muted>Scored on ${held} held-out real images${none.length ? `; ${none.map(esc).join(', ')} too small to hold any out` : ''} · ${e.seeds} seed${e.seeds === 1 ? '' : 's'} · ${e.syntheticImages ?? 0} synthetic images at the time.
${weight !== 1 ? `The metadata's <code>loss_weight</code> is ${weight} for this generation's synthetic images, as the check found best.` : "The metadata's <code>loss_weight</code> is 1 for this generation's images."}</p>
${e.runExcludedHeldOut ? '' : '<p class=warn>The run behind this generation trained on the held-out images, so the synthetic arms may look better than they are.</p>'}`
}

export async function reportHtml(input: {
  datasetName: string
  options: ExportOptions
  classes: ExportClassCount[]
  files: PlannedFile[]
  runs: ReportRun[]
  createdAt: Date
  mixedSizes: MixedSizes | null
  /** The metadata files, relative to the export's root. */
  manifests: string[]
  /** Augmented copies of val or test images that were left out (contents.ts). */
  heldOutCopies?: number
  /** The latest completed downstream check of each exported generation that has one. */
  evaluations?: EvaluationSummary[]
}): Promise<Buffer> {
  const { options: o } = input
  const rows = input.classes
    .map(
      (c) =>
        `<tr><td>${esc(c.className)}</td><td><code>${esc(c.folder)}</code></td><td class=n>${c.real}</td><td class=n>${c.synthetic}</td><td class=n>${c.real + c.synthetic}</td></tr>`,
    )
    .join('\n')
  const sheets: string[] = []
  for (let i = 0; i < input.classes.length; i++) {
    const png = await classSheet(input.files.filter((f) => f.classIndex === i))
    if (png)
      sheets.push(
        `<figure><figcaption>${esc(input.classes[i].className)}</figcaption><img alt="${esc(input.classes[i].className)} samples" src="data:image/png;base64,${png.toString('base64')}"></figure>`,
      )
  }
  const runs = input.runs
    .map(
      (r) => `<tr><td>#${r.generationId}</td><td>#${r.runId}</td><td class=n>${r.accepted}</td>
<td>${esc(String(r.settings.preset ?? ''))}, ${r.epochsDone} epochs, latent ${esc(String(r.settings.latentDim ?? ''))}, beta ${esc(String(r.settings.beta ?? ''))}</td>
<td class=n>${r.bestValLoss?.toFixed(2) ?? '–'}</td><td class=n>${r.classifierAccuracy === null ? '–' : `${(r.classifierAccuracy * 100).toFixed(1)}%`}</td>
<td class=n>${r.temperature}</td><td>${r.filters.minConfidence === 'auto' ? 'confidence calibrated per class' : `confidence ≥ ${r.filters.minConfidence}`}, novelty ≥ ${r.filters.nearCopy}</td></tr>`,
    )
    .join('\n')
  const real = input.classes.reduce((a, c) => a + c.real, 0)
  const synth = input.classes.reduce((a, c) => a + c.synthetic, 0)
  const augmented = input.files.filter((f) => f.meta.origin === 'augment').length
  const copies = input.heldOutCopies ?? 0
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Synthfold export: ${esc(input.datasetName)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#1c2430;max-width:1100px}table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #e3e6eb;padding:4px 10px;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:0 16px 16px 0}figcaption{font-weight:600}img{image-rendering:pixelated;border:1px solid #e3e6eb}
.muted{color:#667085}tr.best td{background:#eef2ff}.warn{background:#fef3c7;padding:8px 12px;border-radius:6px}</style></head><body>
<h1>Synthfold export: ${esc(input.datasetName)}</h1>
<p class=muted><time datetime="${input.createdAt.toISOString()}">${reportDate(input.createdAt)}</time> · ${real} real and ${synth} synthetic images${augmented ? ` (${augmented} of them classic augmentations of real images)` : ''}${copies ? ` · ${copies} augmented copies of val or test images left out` : ''} · included: ${o.include}
${o.splits ? ` · splits train/val/test ${o.splits.join('/')} (seed ${o.seed}; synthetic images in train only)` : ''}
${o.upscale ? ` · synthetic images upscaled to ${o.upscale.size} px with ${o.upscale.method}` : ''}</p>
${
  input.mixedSizes
    ? `<p class=warn data-testid="report-mixed-sizes"><strong>Mixed sizes:</strong> real images were copied as they are (${input.mixedSizes.real.join(', ')} px), synthetic ones are ${input.mixedSizes.synthetic} px. A torchvision DataLoader cannot batch them without a Resize transform.</p>`
    : ''
}
<h2>Class counts, before and after</h2>
<table data-testid="report-counts"><thead><tr><th>Class</th><th>Folder</th><th>Real (before)</th><th>Synthetic</th><th>After</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Samples</h2><p class=muted>Per class: real images on the first row, synthetic ones below.</p>
${sheets.join('\n')}
${input.evaluations?.length ? `<h2>Does it help?</h2><p class=muted>The same small classifier trained with and without the synthetic images (and with the loss-side methods that need none), scored on the dataset's held-out real images.</p>\n${input.evaluations.map(evaluationSection).join('\n')}` : ''}
${runs ? `<h2>Where the synthetic images come from</h2><table><thead><tr><th>Generation</th><th>Run</th><th>Accepted</th><th>Training</th><th>Best val loss</th><th>Classifier accuracy</th><th>Temperature</th><th>Filters</th></tr></thead><tbody>${runs}</tbody></table>` : ''}
<p class=muted>Files: ${input.manifests.map((m) => `<code>${esc(m)}</code>`).join(', ')} list${input.manifests.length === 1 ? 's' : ''} every image${input.manifests.length > 1 ? ' of its split' : ''} with its label, split, whether it is synthetic, its source, scores, SHA-256 and suggested loss weight.</p>
</body></html>
`
  return Buffer.from(html, 'utf8')
}
