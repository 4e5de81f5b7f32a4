/**
 * The ML process's side of a studio session: one checkpoint loaded once, the dataset's images read
 * once when first needed, and requests (map, interpolation, dimensions, decode, traversal) answered
 * one at a time.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import BetterSqlite3 from 'better-sqlite3'
import { Generator, VqGenerator } from '../generation/generator'
import { readPng } from '../generation/generate'
import { DEFAULT_TEMPERATURE } from '../../shared/generation'
import { type TrainingData } from '../training/data'
import { loadTrainingData } from '../training/data-load'
import type {
  CodeSource,
  StudioEndpoint,
  StudioJob,
  StudioReplies,
  StudioRequest,
} from '../../shared/ml-protocol'
import { latentToolsRefusal, type StudioImage, type StudioTool } from '../../shared/studio'
import {
  dimensionStats,
  interpolateLabels,
  interpolateLatents,
  rankDimensions,
  traversal,
} from './latent-paths'
import { mapCoordinates } from './map'
import { CancelledError } from './pca'

export type StudioProgress = (
  phase: 'encoding' | 'projecting' | 'placing',
  done: number,
  total: number,
) => void

interface RealImages {
  data: TrainingData
  /** Per image, its class index in the run (the dataset's class order may differ). */
  runClass: Int32Array
  byId: Map<number, number>
}

const ENCODE_BATCH = 256

/** The family a checkpoint was trained as (checkpoints from before families are CVAEs). */
export function modelFamily(settings: unknown): string {
  const m = (settings as { model?: unknown } | null)?.model
  return typeof m === 'string' ? m : 'cvae'
}

export class StudioSession {
  private real: RealImages | null = null

  private constructor(
    private readonly job: StudioJob,
    readonly gen: Generator,
  ) {}

  static open(job: StudioJob): StudioSession {
    return new StudioSession(job, Generator.load(job.checkpointDir))
  }

  /** Refuses a tool the run's family has no use for (sliders on a VQ-VAE, regions on a CVAE). */
  private require(tool: StudioTool): void {
    const refusal = latentToolsRefusal(modelFamily(this.gen.meta.settings), tool)
    if (refusal) throw new Error(refusal)
  }

  private get vq(): VqGenerator | null {
    return this.gen instanceof VqGenerator ? this.gen : null
  }

  async handle<K extends StudioRequest['kind']>(
    req: Extract<StudioRequest, { kind: K }>,
    progress: StudioProgress,
    shouldStop: () => boolean,
  ): Promise<StudioReplies[K]> {
    const r = req as StudioRequest
    switch (r.kind) {
      case 'map':
        return (await this.map(r, progress, shouldStop)) as StudioReplies[K]
      case 'interpolate':
        return (await this.interpolate(r)) as StudioReplies[K]
      case 'dimensions':
        this.require('sliders')
        return this.dimensions(r) as StudioReplies[K]
      case 'codes': {
        this.require('resample')
        const src = this.codeSource(r.source)
        return {
          ...this.codeInfo(src.codes, src.classIndex),
          image: this.image(this.gen.decode([src.codes], [src.classIndex])[0]),
        } as StudioReplies[K]
      }
      case 'resample':
        this.require('resample')
        return this.resample(r) as StudioReplies[K]
      case 'decode': {
        this.require('sliders')
        const zs = r.latents.map((z) => this.latent(z))
        const px = this.gen.decode(
          zs,
          new Array<number>(zs.length).fill(this.classIndex(r.classIndex)),
        )
        return { images: px.map((p) => this.image(p)) } as StudioReplies[K]
      }
      case 'traverse': {
        this.require('sliders')
        this.classIndex(r.classIndex)
        const grid = traversal(this.latent(r.base), r.dims, r.values)
        const flat = grid.flat()
        const px = this.gen.decode(flat, new Array<number>(flat.length).fill(r.classIndex))
        const rows = grid.map((row, i) =>
          row.map((_, j) => this.image(px[i * r.values.length + j])),
        )
        return { rows } as StudioReplies[K]
      }
    }
  }

  dispose(): void {
    this.gen.dispose()
  }

  private classIndex(c: number): number {
    if (!Number.isInteger(c) || c < 0 || c >= this.gen.meta.shape.classes)
      throw new Error(`No class ${c} in this run.`)
    return c
  }

  private latent(z: ArrayLike<number>): Float32Array {
    const d = this.gen.meta.shape.latentDim
    if (z.length !== d)
      throw new Error(`A latent code of this run has ${d} numbers, not ${z.length}.`)
    return Float32Array.from(z)
  }

  private image(px: Uint8Array): StudioImage {
    const { size, channels } = this.gen.meta.shape
    return {
      size,
      channels,
      pixels: Buffer.from(px.buffer, px.byteOffset, px.byteLength).toString('base64'),
    }
  }

  private images(): RealImages {
    if (this.real) return this.real
    const db = new BetterSqlite3(this.job.dbPath, { readonly: true, fileMustExist: true })
    let data: TrainingData
    try {
      data = loadTrainingData(db, this.job.home, this.job.datasetId, 'include')
    } finally {
      db.close()
    }
    const { size, channels } = this.gen.meta.shape
    if (data.size !== size || data.channels !== channels)
      throw new Error('The dataset was re-imported at another size since this run was trained.')
    const runIndex = new Map(this.gen.classNames.map((n, i) => [n, i]))
    const runClass = Int32Array.from(data.labels, (l) => runIndex.get(data.classNames[l]) ?? -1)
    const byId = new Map<number, number>()
    data.ids.forEach((id, i) => byId.set(id, i))
    this.real = { data, runClass, byId }
    return this.real
  }

  private pixelsOf(i: number): Uint8Array {
    const { data } = this.images()
    const record = data.size * data.size * data.channels
    return data.pixels.subarray(i * record, (i + 1) * record)
  }

  /** Features of images in batches, with progress and cancel between batches. */
  private async features(
    imgs: Uint8Array[],
    classes: number[],
    features: 'latent' | 'classifier',
    progress: (done: number) => void,
    shouldStop: () => boolean,
  ): Promise<Float32Array[]> {
    if (features === 'classifier' && !this.gen.hasClassifier)
      throw new Error('This run has no classifier: map its latent means instead.')
    const out: Float32Array[] = []
    for (let i = 0; i < imgs.length; i += ENCODE_BATCH) {
      const b = imgs.slice(i, i + ENCODE_BATCH)
      const vq = this.vq
      // a VQ-VAE's codes are indices: the map projects their codebook vectors instead
      const f =
        features === 'classifier'
          ? this.gen.classifierFeatures(b, ENCODE_BATCH)
          : vq
            ? vq.embedCodes(vq.encode(b, [], ENCODE_BATCH))
            : this.gen.encode(b, classes.slice(i, i + ENCODE_BATCH), ENCODE_BATCH)
      out.push(...f)
      progress(Math.min(imgs.length, i + ENCODE_BATCH))
      await new Promise((r) => setImmediate(r))
      if (shouldStop()) throw new CancelledError()
    }
    return out
  }

  private async map(
    r: Extract<StudioRequest, { kind: 'map' }>,
    progress: StudioProgress,
    shouldStop: () => boolean,
  ): Promise<StudioReplies['map']> {
    const real = this.images()
    const keep: number[] = []
    for (let i = 0; i < real.data.count; i++) if (real.runClass[i] >= 0) keep.push(i)
    const synth = r.synthetic?.samples ?? []
    const total = keep.length + synth.length
    progress('encoding', 0, total)
    const rows = await this.features(
      keep.map((i) => this.pixelsOf(i)),
      keep.map((i) => real.runClass[i]),
      r.features,
      (done) => progress('encoding', done, total),
      shouldStop,
    )
    let extra: Float32Array[] = []
    if (r.synthetic && synth.length) {
      const { channels } = this.gen.meta.shape
      const imgs: Uint8Array[] = []
      for (const s of synth) imgs.push(await readPng(join(r.synthetic.dir, s.file), channels))
      extra = await this.features(
        imgs,
        synth.map((s) => s.classIndex),
        r.features,
        (done) => progress('encoding', keep.length + done, total),
        shouldStop,
      )
    }
    const xy = await mapCoordinates(rows, extra, r.method, {
      seed: r.seed,
      progress,
      shouldStop,
    })
    const points = (ids: number[], cls: number[], c: Float64Array[]) => ({
      ids,
      classIndex: cls,
      x: c.map((p) => round(p[0])),
      y: c.map((p) => round(p[1])),
    })
    return {
      real: points(
        keep.map((i) => real.data.ids[i]),
        keep.map((i) => real.runClass[i]),
        xy.real,
      ),
      synthetic: r.synthetic
        ? points(
            synth.map((s) => s.id),
            synth.map((s) => s.classIndex),
            xy.extra,
          )
        : null,
    }
  }

  /** An endpoint's latent code and class: a real image's mean under its label, or a class's prior mean. */
  endpoint(e: StudioEndpoint): { z: Float32Array; classIndex: number } {
    const vq = this.vq
    if (vq) {
      // the continuous encoder output before quantisation; a class's end is its prior's most
      // likely grid, as its codebook vectors (the discrete model's nearest thing to a prior mean)
      if ('classIndex' in e) {
        const c = this.classIndex(e.classIndex)
        return { z: vq.embedCodes([vq.typicalGrid(c)])[0], classIndex: c }
      }
      const { i, c } = this.realImage(e.imageId)
      return { z: vq.encodeContinuous([this.pixelsOf(i)])[0], classIndex: c }
    }
    if ('classIndex' in e) {
      const c = this.classIndex(e.classIndex)
      const mean = this.gen.meta.latentStats?.mean[c]
      return {
        z: mean ? Float32Array.from(mean) : new Float32Array(this.gen.meta.shape.latentDim),
        classIndex: c,
      }
    }
    const { i, c } = this.realImage(e.imageId)
    const [z] = this.gen.encode([this.pixelsOf(i)], [c])
    return { z, classIndex: c }
  }

  private realImage(imageId: number): { i: number; c: number } {
    const real = this.images()
    const i = real.byId.get(imageId)
    if (i === undefined) throw new Error(`No image ${imageId} in this run's dataset.`)
    const c = real.runClass[i]
    if (c < 0) throw new Error(`Image ${imageId} is of a class this run was not trained on.`)
    return { i, c }
  }

  /** A resampling's starting grid: a real image's codes, or the prior's sample for a class and seed. */
  private codeSource(src: CodeSource): { codes: Float32Array; classIndex: number } {
    const vq = this.vq!
    if ('imageId' in src) {
      const { i, c } = this.realImage(src.imageId)
      return { codes: vq.encode([this.pixelsOf(i)], [])[0], classIndex: c }
    }
    const c = this.classIndex(src.classIndex)
    return { codes: vq.latentsForSeeds(c, [src.seed], DEFAULT_TEMPERATURE)[0], classIndex: c }
  }

  private codeInfo(codes: Float32Array, classIndex: number) {
    const { grid, codebookSize } = this.vq!.codeGrid
    return { grid, codebookSize, classIndex, codes: Array.from(codes) }
  }

  private resample(r: Extract<StudioRequest, { kind: 'resample' }>): StudioReplies['resample'] {
    const vq = this.vq!
    const src = this.codeSource(r.source)
    const grids = vq.resampleRegion(src.codes, src.classIndex, r.region, r.seeds, r.temperature)
    const px = vq.decode([src.codes, ...grids], new Array<number>(grids.length + 1).fill(src.classIndex))
    return {
      ...this.codeInfo(src.codes, src.classIndex),
      image: this.image(px[0]),
      region: r.region,
      temperature: r.temperature,
      seeds: r.seeds,
      grids: grids.map((g) => Array.from(g)),
      images: px.slice(1).map((p) => this.image(p)),
    }
  }

  private async interpolate(
    r: Extract<StudioRequest, { kind: 'interpolate' }>,
  ): Promise<StudioReplies['interpolate']> {
    const a = this.endpoint(r.from)
    const b = this.endpoint(r.to)
    const path = interpolateLatents(a.z, b.z, r.steps, r.path)
    // a VQ-VAE's frames are quantised step by step, so each one decodes a valid code grid
    const zs = this.vq ? this.vq.quantise(path) : path
    const ys = interpolateLabels(a.classIndex, b.classIndex, this.gen.meta.shape.classes, r.steps)
    const px = this.gen.decodeMixed(zs, ys)
    const t = Array.from({ length: r.steps }, (_, i) => i / (r.steps - 1))
    const files: string[] = []
    if (r.outDir) {
      mkdirSync(r.outDir, { recursive: true })
      const { size, channels } = this.gen.meta.shape
      const name = (c: number) => this.gen.classNames[c].replace(/[^\p{L}\p{N}_-]+/gu, '_')
      for (let i = 0; i < px.length; i++) {
        const file = join(
          r.outDir,
          `step-${String(i).padStart(3, '0')}-${name(a.classIndex)}-to-${name(b.classIndex)}.png`,
        )
        await sharp(Buffer.from(px[i]), {
          raw: { width: size, height: size, channels: channels as 1 | 3 | 4 },
        })
          .toColourspace(channels === 1 ? 'b-w' : 'srgb')
          .png()
          .toFile(file)
        files.push(file)
      }
    }
    return { images: px.map((p) => this.image(p)), t, classes: [a.classIndex, b.classIndex], files }
  }

  private dimensions(
    r: Extract<StudioRequest, { kind: 'dimensions' }>,
  ): StudioReplies['dimensions'] {
    const c = this.classIndex(r.classIndex)
    const real = this.images()
    const members: number[] = []
    for (let i = 0; i < real.data.count; i++) if (real.runClass[i] === c) members.push(i)
    if (!members.length) throw new Error(`The class ${this.gen.classNames[c]} has no images.`)
    const { mu, logvar } = this.gen.encodeFull(
      members.map((i) => this.pixelsOf(i)),
      new Array<number>(members.length).fill(c),
    )
    const stats = dimensionStats(mu, logvar)
    const base = this.gen.meta.latentStats?.mean[c] ?? stats.map((s) => s.mean)
    return {
      dims: rankDimensions(stats, r.by, Math.min(r.count, stats.length)),
      base: Array.from(base),
      images: members.length,
    }
  }
}

function round(v: number): number {
  return Math.round(v * 1e5) / 1e5
}
