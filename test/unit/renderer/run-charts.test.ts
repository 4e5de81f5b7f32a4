import { describe, expect, it } from 'vitest'
import type uPlot from 'uplot'
import { chartOptions, runCharts } from '../../../src/renderer/src/composables/runCharts'
import type { EpochMetrics } from '../../../src/shared/runs'

const epoch = (i: number, rec: number, kl: number, active: number): EpochMetrics => ({
  epoch: i,
  loss: rec + kl,
  reconstruction: rec,
  kl,
  valLoss: rec + kl + 5,
  valReconstruction: rec + 4,
  valKl: kl + 1,
  activeUnits: active,
  learningRate: 0.005,
  imagesPerSecond: 900,
  seconds: 2,
})
const epochs = [epoch(0, 7500, 3, 16), epoch(1, 420, 11.5, 15), epoch(2, 260.4, 14.25, 14)]

describe('the run page charts', () => {
  const charts = runCharts(epochs, { reconstruction: 'bce', latentDim: 16 })
  const byTitle = (t: string) => charts.find((c) => c.title === t)!

  it('gives KL its own chart, so it is not a flat line under a reconstruction of thousands', () => {
    expect(charts.map((c) => c.title)).toEqual([
      'Loss',
      'Reconstruction',
      'KL divergence',
      'Active latent units',
    ])
    expect(byTitle('KL divergence').series.map((s) => s.label)).toEqual(['train', 'validation'])
    expect(byTitle('Reconstruction').series.every((s) => !/KL/.test(s.label))).toBe(true)
  })

  it('tells validation from train by colour as well as dash', () => {
    for (const c of charts.filter((c) => c.series.length === 2)) {
      const [train, val] = c.series
      expect(val.color, c.title).not.toBe(train.color)
      expect(val.dash, c.title).toBe(true)
    }
  })

  it('labels every axis with its unit and scales active units from 0 to the latent size', () => {
    expect(byTitle('Loss').unit).toBe('nats per image')
    expect(byTitle('KL divergence').unit).toBe('nats per image')
    expect(byTitle('Active latent units').unit).toBe('units of 16')
    expect(byTitle('Active latent units').range).toEqual([0, 16])
    const mse = runCharts(epochs, { reconstruction: 'mse', latentDim: 8 })
    expect(mse[1].unit).toBe('squared error per image')
    expect(mse[3].range).toEqual([0, 8])

    const opts = chartOptions(byTitle('Active latent units'), 400)
    expect(opts.axes![1].label).toBe('units of 16')
    expect(opts.axes![0].label).toBe('epoch')
    const range = opts.scales!.y.range as uPlot.Range.MinMax
    expect(range).toEqual([0, 16])
  })

  it("shows the last epoch's values in the legend before anyone hovers", () => {
    const kl = byTitle('KL divergence')
    const opts = chartOptions(kl, 400)
    const data = [[1, 2, 3], ...kl.series.map((s) => s.values)] as uPlot.AlignedData
    const u = { data } as unknown as uPlot
    const value = (i: number, idx: number | null): string =>
      (opts.series[i].value as (u: uPlot, v: number | null, s: number, i: number | null) => string)(
        u,
        idx === null ? null : (data[i][idx] as number),
        i,
        idx,
      )
    expect(value(0, null)).toBe('3')
    expect(value(1, null)).toBe('14.3')
    expect(value(2, null)).toBe('15.3')
    expect(value(1, 0)).toBe('3.00')
    const rec = chartOptions(byTitle('Reconstruction'), 400)
    const recData = [[1, 2, 3], ...byTitle('Reconstruction').series.map((s) => s.values)]
    const v = rec.series[1].value as (
      u: uPlot,
      v: number | null,
      s: number,
      i: number | null,
    ) => string
    expect(v({ data: recData } as unknown as uPlot, 7500, 1, 0)).toBe('7,500')
  })
})

describe('a VQ-VAE run’s charts', () => {
  const vq = (i: number, stage: 'vq' | 'prior', loss: number, used: number): EpochMetrics => ({
    ...epoch(i, 300, 12, used),
    loss,
    valLoss: loss + 1,
    stage,
    usedCodes: used,
    perplexity: used * 0.7,
  })
  const epochs = [vq(0, 'vq', 320, 40), vq(1, 'vq', 280, 60), vq(2, 'prior', 3.1, 60)]
  const charts = runCharts(epochs, {
    reconstruction: 'bce',
    latentDim: 16,
    model: 'vqvae',
    vqCodebookSize: 64,
  })
  const byTitle = (t: string) => charts.find((c) => c.title === t)!

  it('charts codebook use where a CVAE charts active units, and each stage apart', () => {
    expect(charts.map((c) => c.title)).toEqual([
      'Loss (stage 1: VQ-VAE)',
      'Reconstruction',
      'Commitment loss',
      'Codebook use',
      'Prior loss (stage 2)',
    ])
    const use = byTitle('Codebook use')
    expect(use.range).toEqual([0, 64])
    expect(use.series.map((s) => s.values)).toEqual([
      [40, 60, null],
      [28, 42, null],
    ])
    // the prior's nats per code never share an axis with the autoencoder's nats per image
    expect(byTitle('Loss (stage 1: VQ-VAE)').series[0].values).toEqual([320, 280, null])
    expect(byTitle('Prior loss (stage 2)').series[0].values).toEqual([null, null, 3.1])
  })
})
