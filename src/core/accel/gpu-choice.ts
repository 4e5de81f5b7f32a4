import type { GpuAdapterReport } from '../../shared/gpu'

/*
 * Which backend a run trains on, as a pure rule over what each candidate reported (issue 22): no
 * probing here, so the rules are unit-tested with faked adapters and the same function serves the
 * ML process (Node: tfjs-node-gpu, wasm, cpu) and a renderer (WebGPU, WebGL): the GPU trainer page
 * now, the desktop app's hidden GPU window once it exists.
 */

/** Every backend a run can train on, best first where each is what it claims to be. */
export const CHOICE_ORDER = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'] as const
export type ChoiceName = (typeof CHOICE_ORDER)[number]

/** What each candidate reported; `null` where it could not be asked (no renderer in this shell). */
export interface Candidates {
  /** @tensorflow/tfjs-node-gpu: whether it loaded, and the CUDA GPU it found (null: none). */
  tensorflow: { loads: boolean; gpu: string | null; error?: string }
  /** The WebGPU adapter a renderer got; null where there is no renderer (the ML process). */
  webgpu: GpuAdapterReport | null
  /** WebGL2 in a renderer: its renderer string; null where there is no renderer. */
  webgl: { available: boolean; renderer: string; reason?: string } | null
  wasm: { loads: boolean; error?: string }
}

export interface BackendChoice {
  backend: ChoiceName
  /** What trains: a GPU adapter's or renderer's name, or the CPU. */
  device: string
  /** Why each better option was not used, best first; and what was forced. */
  notes: string[]
}

/** A WebGL renderer that is software (SwiftShader, llvmpipe, WARP): as slow as the CPU paths. */
export const isSoftwareRenderer = (renderer: string): boolean =>
  /swiftshader|llvmpipe|softpipe|software|microsoft basic render|warp/i.test(renderer)

const RENDERER_ONLY =
  'only in a browser renderer (the GPU trainer page, gpu.html); the ML process trains on the CPU'

/** The notes for the GPU options where there is no renderer to ask (the ML process under Node). */
export const rendererOnlyNotes = (): string[] => [
  `webgpu: ${RENDERER_ONLY}`,
  `webgl: ${RENDERER_ONLY}`,
]

const adapterName = (a: GpuAdapterReport): string =>
  [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'WebGPU adapter'

/** Why `name` cannot run here at all (null: it can), whether asked for or not. */
function unavailable(name: ChoiceName, c: Candidates): string | null {
  switch (name) {
    case 'tensorflow':
      return c.tensorflow.loads
        ? null
        : (c.tensorflow.error ?? '@tensorflow/tfjs-node-gpu did not load')
    case 'webgpu':
      if (!c.webgpu) return RENDERER_ONLY
      return c.webgpu.available ? null : (c.webgpu.reason ?? 'no WebGPU adapter')
    case 'webgl':
      if (!c.webgl) return RENDERER_ONLY
      return c.webgl.available ? null : (c.webgl.reason ?? 'no WebGL2 context')
    case 'wasm':
      return c.wasm.loads ? null : (c.wasm.error ?? 'the wasm backend did not load')
    case 'cpu':
      return null
  }
}

/**
 * Why `name`, though it runs, is not taken automatically (null: it is): a software adapter or
 * renderer is never chosen unless forced, and tfjs-node-gpu without a CUDA GPU (its native CPU
 * kernels) gives way to a real GPU in the renderer.
 */
function notChosen(name: ChoiceName, c: Candidates): string | null {
  if (name === 'tensorflow' && !c.tensorflow.gpu)
    return betterGpu(c) ? 'loaded but found no CUDA GPU; a GPU in the renderer is better' : null
  if (name === 'webgpu' && c.webgpu?.isFallbackAdapter)
    return `the adapter (${adapterName(c.webgpu)}) is a software fallback, slower than the CPU paths; used only when forced`
  if (name === 'webgl' && c.webgl && isSoftwareRenderer(c.webgl.renderer))
    return `the renderer (${c.webgl.renderer}) is software; used only when forced`
  return null
}

const betterGpu = (c: Candidates): boolean =>
  (['webgpu', 'webgl'] as const).some((n) => !unavailable(n, c) && !notChosen(n, c))

function deviceOf(name: ChoiceName, c: Candidates, cpu: string): string {
  if (name === 'tensorflow') return c.tensorflow.gpu ?? cpu
  if (name === 'webgpu' && c.webgpu) return adapterName(c.webgpu)
  if (name === 'webgl' && c.webgl) return c.webgl.renderer
  return cpu
}

/**
 * The backend to train on. Automatically: tfjs-node-gpu where it loads (unless it found no CUDA
 * GPU and the renderer has a real one), then a real (not fallback) WebGPU adapter, then hardware
 * WebGL, then wasm, then cpu. `force` names one (the `backend` setting, `--backend`): it is used where it runs at all, a
 * software adapter included; where it cannot run, the automatic choice is made and a note says why.
 */
export function chooseBackend(
  c: Candidates,
  force: ChoiceName | 'auto' = 'auto',
  cpu = 'CPU',
): BackendChoice {
  const notes: string[] = []
  if (force !== 'auto') {
    const why = unavailable(force, c)
    if (!why) {
      const soft = notChosen(force, c)
      if (soft && force !== 'tensorflow') notes.push(`${force}: forced (${soft})`)
      return { backend: force, device: deviceOf(force, c, cpu), notes }
    }
    notes.push(`${force}: asked for, but it cannot run here (${why}); chose automatically`)
  }
  for (const name of CHOICE_ORDER) {
    const why = unavailable(name, c) ?? notChosen(name, c)
    if (!why) return { backend: name, device: deviceOf(name, c, cpu), notes }
    notes.push(`${name}: ${why}`)
  }
  return { backend: 'cpu', device: cpu, notes }
}
