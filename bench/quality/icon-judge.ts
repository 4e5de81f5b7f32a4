// The colour set's independent judge: a small CNN on 32 px RGB icons over white, trained on the
// categories of bench/quality/icons.ts as other themes draw them (never Oxygen, the dataset's
// theme), with shifts, flips, scale and colour jitter so it learns the shape of a category more
// than one artist's palette. Seeded and cached in $TMPDIR like the Fashion-MNIST judge.
import { cachedWeights } from './weights-cache'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import sharp from 'sharp'
import { rng, shuffle } from '../../src/core/util/random'
import { ICON_CATEGORIES, hashOf, isColourful, judgeFiles, renderIcon } from './icons'

export const JUDGE_SIZE = 32
const K = ICON_CATEGORIES.length

function judgeModel(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed })
  const conv = (filters: number, seed: number, first = false) =>
    tfl.layers.conv2d({
      ...(first ? { inputShape: [JUDGE_SIZE, JUDGE_SIZE, 3] } : {}),
      filters,
      kernelSize: 3,
      activation: 'relu',
      padding: 'same',
      kernelInitializer: init(seed),
    })
  // It looks at 16 px (an average of 2x2 pixels first): at that size a folder is a folder in any
  // theme, and one artist's gloss or line work no longer tells the categories apart.
  return tfl.sequential({
    layers: [
      tfl.layers.averagePooling2d({ inputShape: [JUDGE_SIZE, JUDGE_SIZE, 3], poolSize: 2 }),
      conv(32, 1),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      conv(64, 2),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      conv(96, 3),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.4, seed: 5 }),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(4) }),
      tfl.layers.dense({ units: K, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  })
}

const compiled = (m: tfl.Sequential): tfl.Sequential => {
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' })
  return m
}

/** The judge's source images: each colourful icon of another theme, drawn at a few scales. */
async function sourceImages(): Promise<{ images: Uint8Array[][]; counts: number[] }> {
  const files = judgeFiles()
  const images: Uint8Array[][] = []
  const counts: number[] = []
  for (let c = 0; c < K; c++) {
    const seen = new Set<string>()
    const per: Uint8Array[] = []
    let icons = 0
    for (const f of files[c]) {
      const full = await renderIcon(f, JUDGE_SIZE)
      if (!isColourful(full) || seen.has(hashOf(full))) continue
      seen.add(hashOf(full))
      icons++
      per.push(full)
      // smaller on the same canvas: themes pad their icons differently
      for (const s of [24, 28]) per.push(await padded(await renderIcon(f, s), s))
    }
    images.push(per)
    counts.push(icons)
  }
  return { images, counts }
}

async function padded(px: Uint8Array, s: number): Promise<Uint8Array> {
  const pad = JUDGE_SIZE - s
  const { data } = await sharp(Buffer.from(px), { raw: { width: s, height: s, channels: 3 } })
    .extend({
      top: pad >> 1,
      bottom: pad - (pad >> 1),
      left: pad >> 1,
      right: pad - (pad >> 1),
      background: '#ffffff',
    })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return new Uint8Array(data)
}

/**
 * One augmented copy in [0, 1]: a shift of up to 2 px, a mirror, ink gain per channel, sometimes
 * the channels swapped or gray.
 */
function augment(px: Uint8Array, rand: () => number, out: Float32Array, o: number): void {
  const S = JUDGE_SIZE
  const dx = Math.floor(rand() * 5) - 2
  const dy = Math.floor(rand() * 5) - 2
  const flip = rand() < 0.5
  const gain = [0, 1, 2].map(() => 0.85 + rand() * 0.3)
  // now and then another channel order, so a category is more its shape than one theme's palette
  const perm =
    rand() < 0.3
      ? [
          [1, 2, 0],
          [2, 0, 1],
          [0, 2, 1],
        ][Math.floor(rand() * 3)]
      : [0, 1, 2]
  const gray = rand() < 0.2
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const sx = (flip ? S - 1 - x : x) - dx
      const sy = y - dy
      const inside = sx >= 0 && sx < S && sy >= 0 && sy < S
      for (let ch = 0; ch < 3; ch++) {
        const p = (sy * S + sx) * 3
        const v = !inside
          ? 1
          : gray
            ? (px[p] * 0.3 + px[p + 1] * 0.59 + px[p + 2] * 0.11) / 255
            : px[p + perm[ch]] / 255
        // jitter the ink, not the white background
        out[o + (y * S + x) * 3 + ch] = 1 - Math.min(1, (1 - v) * gain[ch])
      }
    }
}

/** Trains the judge on class-balanced batches of augmented source icons. */
async function trainJudge(): Promise<tfl.Sequential> {
  const { images, counts } = await sourceImages()
  console.error(
    `  icon judge: ${ICON_CATEGORIES.map((c, i) => `${c.name} ${counts[i]}`).join(', ')} source icons`,
  )
  const m = compiled(judgeModel())
  const rand = rng(11)
  const perClass = 200
  const record = JUDGE_SIZE * JUDGE_SIZE * 3
  for (let epoch = 0; epoch < 10; epoch++) {
    const n = perClass * K
    const x = new Float32Array(n * record)
    const labels: number[] = []
    const order = Array.from({ length: n }, (_, i) => i)
    shuffle(order, rand)
    for (let i = 0; i < n; i++) {
      const c = order[i] % K
      const pool = images[c]
      augment(pool[Math.floor(rand() * pool.length)], rand, x, i * record)
      labels.push(c)
    }
    const xs = tf.tensor4d(x, [n, JUDGE_SIZE, JUDGE_SIZE, 3])
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), K)
    await m.fit(xs, ys, { epochs: 1, batchSize: 64, verbose: 0, shuffle: false })
    tf.dispose([xs, ys])
  }
  return m
}

/** The seeded judge, trained once and kept in $TMPDIR (named by a hash of this file and icons.ts). */
export async function cachedIconJudge(): Promise<tfl.Sequential> {
  const source = ['./icon-judge.ts', './icons.ts']
    .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'))
    .join('\n')
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12)
  return cachedWeights(
    `synthfold-bench-icon-judge-${hash}`,
    () => compiled(judgeModel()),
    trainJudge,
  )
}

/**
 * The judge's category index for RGB images of `size` px (resized to the judge's 32 px first when
 * they are larger).
 */
export async function classifyIcons(
  judge: tfl.LayersModel,
  images: Uint8Array[],
  size: number,
): Promise<Int32Array> {
  const record = JUDGE_SIZE * JUDGE_SIZE * 3
  const flat = new Float32Array(images.length * record)
  for (let j = 0; j < images.length; j++) {
    let px = images[j]
    if (size !== JUDGE_SIZE)
      px = new Uint8Array(
        await sharp(Buffer.from(px), { raw: { width: size, height: size, channels: 3 } })
          .resize(JUDGE_SIZE, JUDGE_SIZE, { kernel: 'lanczos3' })
          .raw()
          .toBuffer(),
      )
    for (let k = 0; k < record; k++) flat[j * record + k] = px[k] / 255
  }
  return tf.tidy(
    () =>
      tf
        .argMax(
          judge.predict(tf.tensor4d(flat, [images.length, JUDGE_SIZE, JUDGE_SIZE, 3])) as tf.Tensor,
          1,
        )
        .dataSync() as Int32Array,
  )
}
