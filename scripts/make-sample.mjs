#!/usr/bin/env node
// Builds resources/sample-fashion-mnist from Debian's dataset-fashion-mnist package:
// a few hundred 28x28 PNGs over the 10 classes, deliberately imbalanced (80 down to 8), plus two
// deliberately broken files so a first import shows the skipped-files report.
// Usage: node scripts/make-sample.mjs [outDir]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { CLASS_NAMES, loadFashionMnist } from './fashion-mnist.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = process.argv[2] ?? join(root, 'resources', 'sample-fashion-mnist')
const COUNTS = [80, 64, 52, 42, 34, 27, 21, 16, 12, 8]

const data = loadFashionMnist('t10k')
rmSync(out, { recursive: true, force: true })
const taken = new Array(10).fill(0)
for (let i = 0; i < data.n && taken.some((t, c) => t < COUNTS[c]); i++) {
  const c = data.label(i)
  if (taken[c] >= COUNTS[c]) continue
  const dir = join(out, CLASS_NAMES[c])
  mkdirSync(dir, { recursive: true })
  const png = await sharp(Buffer.from(data.pixels(i)), {
    raw: { width: data.cols, height: data.rows, channels: 1 },
  })
    .png({ compressionLevel: 9 })
    .toBuffer()
  writeFileSync(join(dir, `t10k-${String(i).padStart(5, '0')}.png`), png)
  taken[c]++
}
// Two files that cannot be used, on purpose: a PNG cut short and a text file with an image name.
const whole = readFileSync(join(out, 'Bag', readdirSync(join(out, 'Bag'))[0]))
writeFileSync(
  join(out, 'Bag', 'broken-truncated.png'),
  whole.subarray(0, Math.floor(whole.length / 2)),
)
writeFileSync(
  join(out, 'Coat', 'notes-not-an-image.png'),
  'This file is text with an image extension.\n',
)
writeFileSync(
  join(out, 'README.txt'),
  `Synthfold sample dataset: ${taken.reduce((a, b) => a + b, 0)} images from the Fashion-MNIST test split,\n` +
    `one folder per class, imbalanced on purpose (${COUNTS.join(', ')} images per class), plus two broken\n` +
    `files (Bag/broken-truncated.png, Coat/notes-not-an-image.png) that an import reports as skipped.\n` +
    `Made by scripts/make-sample.mjs from Debian's dataset-fashion-mnist package. Licence: LICENSE.txt.\n`,
)
writeFileSync(
  join(out, 'LICENSE.txt'),
  `Fashion-MNIST\nCopyright (c) 2017 Zalando SE, https://tech.zalando.com\n\n` +
    readFileSync(join(root, 'scripts', 'MIT.txt'), 'utf8'),
)
console.log(`wrote ${taken.reduce((a, b) => a + b, 0)} images to ${out}`)
