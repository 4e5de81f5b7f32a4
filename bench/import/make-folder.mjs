// Writes N Fashion-MNIST training images as PNGs, one folder per class (cached between runs).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { CLASS_NAMES, loadFashionMnist } from '../../scripts/fashion-mnist.mjs'

export async function makeFolder(dir, n) {
  const marker = join(dir, `.complete-${n}`)
  if (existsSync(marker)) return dir
  const data = loadFashionMnist('train')
  for (const name of CLASS_NAMES) mkdirSync(join(dir, name), { recursive: true })
  for (let i = 0; i < n; i++) {
    const png = await sharp(Buffer.from(data.pixels(i)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    writeFileSync(
      join(dir, CLASS_NAMES[data.label(i)], `train-${String(i).padStart(5, '0')}.png`),
      png,
    )
  }
  writeFileSync(marker, '')
  return dir
}
