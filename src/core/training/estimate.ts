import { PRESETS, resolveSettings, type TrainSettings } from '../../shared/train-settings'
import { Trainer } from './trainer'

/**
 * Measures training speed (images/s) of each preset's model at a dataset's geometry on the
 * backend in use: a warm-up step, then a few timed steps on random pixels. Used for the time
 * estimates shown before a run starts.
 */
export async function measurePresetSpeeds(geo: {
  size: number
  channels: number
  classes: number
  imageCount: number
}): Promise<Record<TrainSettings['preset'], number>> {
  const out = {} as Record<TrainSettings['preset'], number>
  for (const preset of Object.keys(PRESETS) as TrainSettings['preset'][]) {
    const settings = resolveSettings(
      { preset, epochs: 1, validationSplit: 0, classBalanced: false },
      { size: geo.size, channels: geo.channels, imageCount: geo.imageCount },
    )
    const steps = 4
    const n = settings.batchSize * steps
    const record = geo.size * geo.size * geo.channels
    const data = {
      size: geo.size,
      channels: geo.channels,
      classNames: Array.from({ length: geo.classes }, (_, i) => `c${i}`),
      pixels: Uint8Array.from({ length: n * record }, () => Math.floor(Math.random() * 256)),
      labels: Int32Array.from({ length: n }, (_, i) => i % geo.classes),
      ids: Int32Array.from({ length: n }, (_, i) => i + 1),
      count: n,
    }
    const trainer = new Trainer(data, settings)
    let t0 = 0
    let t1 = 0
    let timed = 0
    // from the end of the first (warm-up) step to the end of the last: the epoch's closing
    // evaluation is not a training step, and counting it made runs look a third slower
    await trainer.trainEpoch(
      (p) => {
        if (p.batch === 1) t0 = performance.now()
        else {
          timed++
          t1 = performance.now()
        }
      },
      () => false,
    )
    out[preset] = (timed * settings.batchSize) / ((t1 - t0) / 1000)
    trainer.dispose()
  }
  return out
}
