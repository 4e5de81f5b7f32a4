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

/** Tableau's ten colours, then golden-angle hues: the same class colour on every map and legend. */
const PALETTE: [number, number, number][] = [
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
  [186, 176, 172],
]

export function classColour(i: number): [number, number, number] {
  if (i < PALETTE.length) return PALETTE[i]
  const h = ((i * 137.508) % 360) / 60
  const c = 0.55 * 0.75
  const x = c * (1 - Math.abs((h % 2) - 1))
  const [r, g, b] =
    h < 1
      ? [c, x, 0]
      : h < 2
        ? [x, c, 0]
        : h < 3
          ? [0, c, x]
          : h < 4
            ? [0, x, c]
            : h < 5
              ? [x, 0, c]
              : [c, 0, x]
  const m = 0.55 - c / 2
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)]
}
