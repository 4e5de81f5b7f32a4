import type { ModelFamily, TrainSettings } from './train-settings'

/*
 * What the GPU trainer page (src/renderer/gpu-trainer) reports: the WebGPU adapter Chromium gave
 * it, and the numeric check of the trainers on that adapter against a reference backend.
 */

/** A WebGPU adapter as the page saw it (navigator.gpu.requestAdapter), or why there was none. */
export interface GpuAdapterReport {
  /** False where the browser has no navigator.gpu or gave no adapter; `reason` says which. */
  available: boolean
  reason?: string
  vendor: string
  architecture: string
  device: string
  description: string
  /** A software adapter (SwiftShader, WARP): correct but slow, never chosen automatically. */
  isFallbackAdapter: boolean
  features: string[]
  /** The limits that bound a training run's tensors and shaders. */
  limits: Record<string, number>
}

/** The maths backends the GPU trainer page can run on. */
export type BrowserBackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu'

/** One model family trained a few steps on the target backend and on the reference one. */
export interface FamilyCheck {
  family: 'cvae' | 'wae' | 'vqvae'
  reference: BrowserBackendName
  target: BrowserBackendName
  /** Each step's loss on the reference backend, then on the target, in order. */
  referenceLosses: number[]
  targetLosses: number[]
  /** max |a - b| / max(|a|, |b|, 1e-6) over the steps' losses. */
  lossRelDiff: number
  /** The steps' Adam learning rate: no element moves more than this a step. */
  learningRate: number
  /** max |a - b| over every trained variable after the steps. */
  weightAbsDiff: number
  /** The largest absolute value among those variables (to read the difference against). */
  weightScale: number
  /** The variable (name and shape, on the reference backend) where that difference is largest. */
  worstVariable: string
  /** max |a - b| of generated pixels in [0, 1] from the same seed after the steps. */
  pixelAbsDiff: number
  referenceSeconds: number
  targetSeconds: number
}

/** A whole small run on the page: per-epoch losses, images per second, generated pixels' stats. */
export interface PageRunResult {
  backend: BrowserBackendName
  family: 'cvae' | 'wae' | 'vqvae'
  epochs: number
  losses: number[]
  imagesPerSecond: number
  /** Each epoch's training images per second (the first includes compiling the shaders). */
  epochImagesPerSecond: number[]
  seconds: number
  /** Mean pixel value of a few generated images (a finite, non-constant check). */
  generatedMean: number
  generatedStd: number
}

/** Images handed to the page (the e2e test decodes the shipped sample in Node and sends these). */
export interface GpuPageImages {
  size: number
  channels: number
  classNames: string[]
  /** uint8 pixels, image after image, as numbers (what page.evaluate can carry). */
  pixels: number[]
  labels: number[]
}

/** What the GPU trainer page offers whoever drives it, as `window.synthfoldGpu`. */
export interface GpuPageApi {
  adapter(): Promise<GpuAdapterReport>
  /** The numeric check of one family (FamilyCheck). */
  check(
    family: ModelFamily,
    target: BrowserBackendName,
    reference: BrowserBackendName,
  ): Promise<FamilyCheck>
  /** A whole run on the page: the fast preset with `overrides`. */
  run(
    images: GpuPageImages,
    backend: BrowserBackendName,
    family: ModelFamily,
    overrides: Partial<TrainSettings>,
  ): Promise<PageRunResult>
  /** The tfjs backends registered in the page, and the one in use. */
  backends(): { registered: string[]; current: string }
}

/**
 * One end of the channel between a GPU run's host (main) and the trainer page: a MessagePort in
 * the page, Electron's MessagePortMain in main, a worker_threads MessagePort in the unit tests.
 */
export interface GpuPort {
  /** `transfer`: buffers the receiver takes over (a copy where the ends are in two processes). */
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void
  onMessage(listener: (message: unknown) => void): void
  /** Fires once when the other end is gone: closed, its page crashed or its window destroyed. */
  onClose(listener: (reason: string) => void): void
  close(): void
}

/** Opens a trainer page (the desktop app's hidden GPU window) and the port to it. */
export type OpenGpuPage = () => Promise<GpuPort>

/** WebGL2 in a page: its unmasked renderer string, or why there is none. */
export interface WebGlReport {
  available: boolean
  renderer: string
  reason?: string
}
