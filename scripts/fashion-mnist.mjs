// Reads Debian's dataset-fashion-mnist idx files (gzip) into memory.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { join } from 'node:path'

export const FASHION_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist'
export const CLASS_NAMES = [
  'T-shirt_top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle_boot',
]

/** @param {'train' | 't10k'} split */
export function loadFashionMnist(split) {
  const images = gunzipSync(readFileSync(join(FASHION_DIR, `${split}-images-idx3-ubyte.gz`)))
  const labels = gunzipSync(readFileSync(join(FASHION_DIR, `${split}-labels-idx1-ubyte.gz`)))
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049)
    throw new Error('not idx files')
  const n = images.readUInt32BE(4)
  const rows = images.readUInt32BE(8)
  const cols = images.readUInt32BE(12)
  return {
    n,
    rows,
    cols,
    label: (i) => labels[8 + i],
    pixels: (i) => images.subarray(16 + i * rows * cols, 16 + (i + 1) * rows * cols),
  }
}
