/**
 * The latent studio's types: a run's 2-D map of its dataset, interpolation strips, the sliders
 * over a class's most active latent dimensions and their traversal grid.
 */

export type MapMethod = 'pca' | 'umap'
/** What the map projects: the encoder's mean under each image's label, or the classifier's penultimate features. */
export type MapFeatures = 'latent' | 'classifier'
export type InterpolationPath = 'linear' | 'spherical'
export type DimensionRanking = 'kl' | 'variance'

/** Model families whose latent space is continuous (the studio's interpolation and sliders need one). */
export const CONTINUOUS_FAMILIES = ['cvae', 'wae'] as const

/** Why the studio refuses a family, or null when it can serve it. */
export function latentToolsRefusal(family: string): string | null {
  if ((CONTINUOUS_FAMILIES as readonly string[]).includes(family)) return null
  return (
    `A ${family} run has no continuous latent space: the studio's map, interpolation and ` +
    'sliders work on continuous latents (cvae, wae) only.'
  )
}

/** A decoded image as raw pixels (row-major, `channels` a pixel), base64, for a canvas to draw. */
export interface StudioImage {
  size: number
  channels: number
  pixels: string
}

/** Points of a map: parallel arrays (an image id or a sample id, its class index, x, y). */
export interface MapPoints {
  ids: number[]
  classIndex: number[]
  x: number[]
  y: number[]
}

export interface StudioMap {
  runId: number
  method: MapMethod
  features: MapFeatures
  checkpoint: { kind: 'best' | 'last'; epoch: number }
  classNames: string[]
  /** The dataset's real images (every one, the evaluation split included). */
  real: MapPoints
  /** A generation's accepted samples, placed on the same map (fitted on the real images only). */
  synthetic: (MapPoints & { generationId: number }) | null
  computedAt: number
  seconds: number
}

/**
 * Per-image audit scores the map can mark (higher is more suspicious). The audit stores them;
 * the map draws a ring round the highest ones when they are given.
 */
export interface ImageScore {
  imageId: number
  anomalyScore: number
  labelErrorScore: number
}

export interface MapProgress {
  jobId: string
  runId: number
  phase: 'starting' | 'encoding' | 'projecting' | 'placing'
  done: number
  total: number
}

export type StudioEvent =
  | ({ type: 'progress' } & MapProgress)
  | { type: 'done'; jobId: string; runId: number }
  | { type: 'cancelled'; jobId: string; runId: number }
  | { type: 'failed'; jobId: string; runId: number; error: { code: string; message: string } }

export interface LatentDimension {
  index: number
  kl: number
  variance: number
  /** The class's mean and spread along the dimension: a slider's centre and its unit. */
  mean: number
  sd: number
}

export interface InterpolationResult {
  images: StudioImage[]
  /** Interpolation weights, 0 at `from` and 1 at `to`. */
  t: number[]
  classes: [number, number]
  /** PNGs written, when an output folder was given. */
  files: string[]
}
