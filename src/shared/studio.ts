/**
 * The latent studio's types: a run's 2-D map of its dataset, interpolation strips, the sliders
 * over a class's most active latent dimensions and their traversal grid.
 */

export type MapMethod = 'pca' | 'umap'
/** What the map projects: the encoder's mean under each image's label, or the classifier's penultimate features. */
export type MapFeatures = 'latent' | 'classifier'
export type InterpolationPath = 'linear' | 'spherical'
export type DimensionRanking = 'kl' | 'variance'

/** Model families whose latent space is continuous (the studio's sliders need one). */
export const CONTINUOUS_FAMILIES = ['cvae', 'wae'] as const

/** The studio's tools: the map and interpolation serve every family, sliders continuous ones, region resampling discrete ones. */
export type StudioTool = 'map' | 'interpolate' | 'sliders' | 'resample'

/** Why the studio refuses a tool for a family, or null when it can serve it. */
export function latentToolsRefusal(family: string, tool: StudioTool = 'sliders'): string | null {
  const continuous = (CONTINUOUS_FAMILIES as readonly string[]).includes(family)
  if (tool === 'map' || tool === 'interpolate') return null
  if (tool === 'sliders' && !continuous)
    return (
      `A ${family} run has no continuous latent space: latent sliders and traversals work on ` +
      'continuous latents (cvae, wae) only; resample a region of its code grid instead.'
    )
  if (tool === 'resample' && family !== 'vqvae')
    return `A ${family} run has no code grid: resampling a region works on VQ-VAE runs; use the latent sliders instead.`
  return null
}

/** A rectangle of a code grid, in cells: top-left row and column, and its size. */
export interface CodeRegion {
  row: number
  col: number
  rows: number
  cols: number
}

/** A code grid and its decode: the image a region resampling starts from. */
export interface CodeGridResult {
  grid: number
  codebookSize: number
  classIndex: number
  /** grid * grid code indices, raster order. */
  codes: number[]
  image: StudioImage
}

/** Variants of a code grid with one region resampled by the prior. */
export interface ResampleResult extends CodeGridResult {
  region: CodeRegion
  temperature: number
  seeds: number[]
  grids: number[][]
  images: StudioImage[]
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
