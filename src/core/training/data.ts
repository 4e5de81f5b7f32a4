import { rng, shuffle } from '../util/random'

/*
 * Training data as the trainers see it, and its batching: pure, with no file or database access,
 * so the trainers run unchanged in a browser renderer (the GPU trainer). Loading from a dataset's
 * pixel store is in data-load.ts.
 */

export interface TrainingData {
  size: number
  channels: number
  classNames: string[]
  /** uint8 pixels, image i at i * size * size * channels. */
  pixels: Uint8Array
  labels: Int32Array
  /** Image ids in the database, in the same order. */
  ids: Int32Array
  count: number
}

/** Stratified split: each class keeps `fraction` of its images (at least one when it has 5+) for validation. */
export function splitIndices(
  labels: Int32Array,
  fraction: number,
  seed: number,
): { train: number[]; val: number[] } {
  const rand = rng(seed)
  const byClass = groupBy(labels.keys(), labels)
  const train: number[] = []
  const val: number[] = []
  for (const idx of byClass.values()) {
    shuffle(idx, rand)
    const k = fraction > 0 && idx.length >= 5 ? Math.max(1, Math.round(idx.length * fraction)) : 0
    val.push(...idx.slice(0, k))
    train.push(...idx.slice(k))
  }
  return { train, val }
}

function groupBy(indices: Iterable<number>, labels: Int32Array): Map<number, number[]> {
  const map = new Map<number, number[]>()
  for (const i of indices) {
    const list = map.get(labels[i])
    if (list) list.push(i)
    else map.set(labels[i], [i])
  }
  return map
}

/**
 * The order of one epoch. Class-balanced: every class is drawn equally often (rare classes
 * repeated), which keeps the decoder from learning to ignore the label of rare classes.
 */
export function epochOrder(
  train: number[],
  labels: Int32Array,
  balanced: boolean,
  rand: () => number,
): number[] {
  if (!balanced) return shuffle([...train], rand)
  const byClass = groupBy(train, labels)
  const per = Math.ceil(train.length / byClass.size)
  const out: number[] = []
  for (const idx of byClass.values())
    for (let k = 0; k < per; k++) out.push(idx[Math.floor(rand() * idx.length)])
  return shuffle(out, rand)
}

/** One batch as float pixels in [0, 1] and one-hot labels. */
export function batchArrays(
  d: TrainingData,
  indices: number[],
  classes: number,
): { x: Float32Array; y: Float32Array } {
  const record = d.size * d.size * d.channels
  const x = new Float32Array(indices.length * record)
  const y = new Float32Array(indices.length * classes)
  indices.forEach((idx, b) => {
    const src = d.pixels.subarray(idx * record, (idx + 1) * record)
    const off = b * record
    for (let k = 0; k < record; k++) x[off + k] = src[k] / 255
    y[b * classes + d.labels[idx]] = 1
  })
  return { x, y }
}
