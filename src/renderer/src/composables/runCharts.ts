import type uPlot from 'uplot'
import type { EpochMetrics } from '../../../shared/runs'
import { vqSettings, type TrainSettings } from '../../../shared/train-settings'

export interface ChartSeries {
  label: string
  values: (number | null)[]
  color: string
  dash?: boolean
}

/** One chart: its quantity's own axis (unit, and a fixed range where the quantity has one). */
export interface ChartSpec {
  title: string
  unit: string
  series: ChartSeries[]
  range?: [number, number]
  /** Whole numbers (latent units): ticks and legend without decimals. */
  integer?: boolean
}

/** Train in indigo, validation dashed in amber: told apart in the legend too, by colour. */
const TRAIN = '#4f46e5'
const VALIDATION = '#d97706'

const pair = (train: (number | null)[], validation: (number | null)[]): ChartSeries[] => [
  { label: 'train', values: train, color: TRAIN },
  { label: 'validation', values: validation, color: VALIDATION, dash: true },
]

/**
 * The run page's charts. KL has its own chart: summed over the latent units it is tens of nats
 * where reconstruction is hundreds or thousands, so on a shared axis it showed as a flat line at 0.
 * Active units are drawn from 0 to the latent size, so losing two of sixteen looks like two.
 */
export function runCharts(
  epochs: EpochMetrics[],
  settings: Pick<TrainSettings, 'reconstruction' | 'latentDim'> & Partial<TrainSettings>,
): ChartSpec[] {
  if (settings.model === 'vqvae') return vqCharts(epochs, settings)
  const wae = settings.model === 'wae'
  const pick = (f: (e: EpochMetrics) => number | null): (number | null)[] => epochs.map(f)
  // BCE and the Gaussian are negative log-likelihoods (the Gaussian's, a density, can go below 0)
  const nats = settings.reconstruction !== 'mse'
  const perImage = nats ? 'nats per image' : 'squared error per image'
  return [
    {
      title: 'Loss',
      unit: nats ? 'nats per image' : 'per image',
      series: pair(
        pick((e) => e.loss),
        pick((e) => e.valLoss),
      ),
    },
    {
      title: 'Reconstruction',
      unit: perImage,
      series: pair(
        pick((e) => e.reconstruction),
        pick((e) => e.valReconstruction),
      ),
    },
    {
      // the WAE's divergence: the batch's codes against the prior, an MMD^2 estimate (no unit)
      title: wae ? 'MMD to the prior' : 'KL divergence',
      unit: wae ? 'MMD² estimate' : 'nats per image',
      series: pair(
        pick((e) => e.kl),
        pick((e) => e.valKl),
      ),
    },
    {
      title: 'Active latent units',
      unit: `units of ${settings.latentDim}`,
      range: [0, settings.latentDim],
      integer: true,
      series: [{ label: 'active', values: pick((e) => e.activeUnits), color: '#16a34a' }],
    },
  ]
}

/**
 * A VQ-VAE run's charts: stage 1's loss, reconstruction and commitment, its codebook use (codes
 * used and perplexity on the validation images, from 0 to the codebook size, where a CVAE run
 * charts its active units: a collapsing codebook shows as both falling), and stage 2's prior loss.
 * Each stage's series are empty over the other stage's epochs.
 */
function vqCharts(
  epochs: EpochMetrics[],
  settings: Pick<TrainSettings, 'reconstruction'> & Partial<TrainSettings>,
): ChartSpec[] {
  const inStage = (stage: 'vq' | 'prior', f: (e: EpochMetrics) => number | null | undefined) =>
    epochs.map((e) => ((e.stage ?? 'vq') === stage ? (f(e) ?? null) : null))
  const k = vqSettings({ epochs: 1, ...settings } as TrainSettings).codebookSize
  const nats = settings.reconstruction !== 'mse'
  const perImage = nats ? 'nats per image' : 'squared error per image'
  return [
    {
      title: 'Loss (stage 1: VQ-VAE)',
      unit: nats ? 'nats per image' : 'per image',
      series: pair(
        inStage('vq', (e) => e.loss),
        inStage('vq', (e) => e.valLoss),
      ),
    },
    {
      title: 'Reconstruction',
      unit: perImage,
      series: pair(
        inStage('vq', (e) => e.reconstruction),
        inStage('vq', (e) => e.valReconstruction),
      ),
    },
    {
      title: 'Commitment loss',
      unit: 'per image',
      series: pair(
        inStage('vq', (e) => e.kl),
        inStage('vq', (e) => e.valKl),
      ),
    },
    {
      title: 'Codebook use',
      unit: `codes of ${k}`,
      range: [0, k],
      series: [
        { label: 'used codes', values: inStage('vq', (e) => e.usedCodes), color: '#16a34a' },
        { label: 'perplexity', values: inStage('vq', (e) => e.perplexity), color: '#9333ea' },
      ],
    },
    {
      title: 'Prior loss (stage 2)',
      unit: 'nats per code',
      series: pair(
        inStage('prior', (e) => e.loss),
        inStage('prior', (e) => e.valLoss),
      ),
    },
  ]
}

/** A value as the legend shows it: thousands grouped, small values with a little precision. */
export function formatValue(v: number | null | undefined, integer = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  if (integer) return String(Math.round(v))
  const a = Math.abs(v)
  if (a >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 })
  return a >= 10 ? v.toFixed(1) : v.toFixed(2)
}

const lastValue = (values: readonly (number | null | undefined)[]): number | null => {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i]
    if (v !== null && v !== undefined) return v
  }
  return null
}

/**
 * uPlot options for a chart. Away from the cursor the legend shows the last epoch's values
 * (uPlot's own legend reads "--" until hovered).
 */
export function chartOptions(spec: ChartSpec, width: number): uPlot.Options {
  const at =
    (integer: boolean) =>
    (u: uPlot, v: number | null, sidx: number, idx: number | null): string =>
      formatValue(idx === null ? lastValue(u.data[sidx] as (number | null)[]) : v, integer)
  return {
    width,
    height: 220,
    title: spec.title,
    scales: { x: { time: false }, y: spec.range ? { range: spec.range } : {} },
    axes: [
      { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
      {
        label: spec.unit,
        size: 56,
        ...(spec.integer ? { incrs: [1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 256] } : {}),
      },
    ],
    series: [
      { label: 'epoch', value: at(true) },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        dash: s.dash ? [6, 4] : undefined,
        spanGaps: true,
        value: at(spec.integer ?? false),
      })),
    ],
  }
}

/** The chart's accessible name: its title and unit ("KL divergence (nats per image)"). */
export const chartName = (spec: ChartSpec): string => `${spec.title} (${spec.unit})`
