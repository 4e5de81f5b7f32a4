/**
 * The maths backends Synthfold can train on, best first where each is available. webgpu and webgl
 * run only in the desktop app's GPU window (src/core/jobs/gpu-host.ts); the ML process has the rest.
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu'

/** The backends only a renderer has: the desktop app's GPU window. */
export const PAGE_BACKENDS = ['webgpu', 'webgl'] as const
export const isPageBackend = (b: string): b is (typeof PAGE_BACKENDS)[number] =>
  (PAGE_BACKENDS as readonly string[]).includes(b)

export interface BackendInfo {
  backend: BackendName
  /** What runs the maths: a GPU's name, or a CPU description. */
  device: string
  /** Why each better backend was not used, best first. */
  notes: string[]
  threads: number
  simd: boolean
}
