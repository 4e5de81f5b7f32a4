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
    // The first steps of a fresh model are slow (kernels and buffers set up on first use): on the
    // sample, steps 2 to 4 took twice as long as the steady rate, so three are left out.
    const warmup = 3
    const steps = warmup + 4
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
    // from the end of the warm-up to the end of the last step: the epoch's closing evaluation is
    // not a training step, and counting it made runs look a third slower
    await trainer.trainEpoch(
      (p) => {
        if (p.batch === warmup) t0 = performance.now()
        else if (p.batch > warmup) {
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
