import { describe, expect, it } from 'vitest'
import {
  chooseBackend,
  isSoftwareRenderer,
  type Candidates,
} from '../../../src/core/accel/gpu-choice'
import type { GpuAdapterReport } from '../../../src/shared/gpu'

const adapter = (over: Partial<GpuAdapterReport> = {}): GpuAdapterReport => ({
  available: true,
  vendor: 'nvidia',
  architecture: 'ada',
  device: '',
  description: '',
  isFallbackAdapter: false,
  features: [],
  limits: { maxStorageBufferBindingSize: 1 << 30 },
  ...over,
})
const swiftshader = adapter({
  vendor: 'google',
  architecture: 'swiftshader',
  isFallbackAdapter: true,
})

/** A desktop window with everything but tfjs-node-gpu (not installed). */
const desktop = (over: Partial<Candidates> = {}): Candidates => ({
  tensorflow: { loads: false, gpu: null, error: '@tensorflow/tfjs-node-gpu is not installed' },
  webgpu: adapter(),
  webgl: { available: true, renderer: 'ANGLE (NVIDIA GeForce RTX 4070)' },
  wasm: { loads: true },
  ...over,
})
/** The ML process under Node: no window, so no WebGPU or WebGL to ask. */
const node = (over: Partial<Candidates> = {}): Candidates =>
  desktop({ webgpu: null, webgl: null, ...over })

describe('chooseBackend', () => {
  it('takes tfjs-node-gpu with a CUDA GPU first', () => {
    const c = chooseBackend(desktop({ tensorflow: { loads: true, gpu: 'RTX 4070' } }))
    expect(c).toEqual({ backend: 'tensorflow', device: 'RTX 4070', notes: [] })
  })

  it('takes a real WebGPU adapter over WebGL and wasm, noting why tfjs-node-gpu was not used', () => {
    const c = chooseBackend(desktop())
    expect(c.backend).toBe('webgpu')
    expect(c.device).toBe('nvidia ada')
    expect(c.notes).toEqual(['tensorflow: @tensorflow/tfjs-node-gpu is not installed'])
  })

  it('prefers a real GPU in the window to tfjs-node-gpu without CUDA, which beats wasm otherwise', () => {
    const noCuda = { tensorflow: { loads: true, gpu: null } }
    const c = chooseBackend(desktop(noCuda))
    expect(c.backend).toBe('webgpu')
    expect(c.notes[0]).toMatch(/^tensorflow: loaded but found no CUDA GPU/)
    expect(chooseBackend(node(noCuda)).backend).toBe('tensorflow')
  })

  it('never takes the fallback (software) adapter automatically', () => {
    const c = chooseBackend(desktop({ webgpu: swiftshader }))
    expect(c.backend).toBe('webgl')
    expect(c.notes[1]).toMatch(/^webgpu: the adapter \(google swiftshader\) is a software fallback/)
    // and with software WebGL too, the CPU paths
    const soft = chooseBackend(
      desktop({ webgpu: swiftshader, webgl: { available: true, renderer: 'ANGLE (SwiftShader)' } }),
    )
    expect(soft.backend).toBe('wasm')
    expect(soft.notes.map((n) => n.split(':')[0])).toEqual(['tensorflow', 'webgpu', 'webgl'])
  })

  it('takes WebGL when WebGPU is missing, saying why', () => {
    const c = chooseBackend(
      desktop({
        webgpu: adapter({ available: false, reason: 'this browser has no navigator.gpu' }),
      }),
    )
    expect(c.backend).toBe('webgl')
    expect(c.device).toBe('ANGLE (NVIDIA GeForce RTX 4070)')
    expect(c.notes).toContain('webgpu: this browser has no navigator.gpu')
  })

  it('falls to wasm, then cpu, where nothing better runs', () => {
    const none = {
      webgpu: adapter({ available: false, reason: 'no adapter' }),
      webgl: { available: false, renderer: '', reason: 'no WebGL2' },
    }
    expect(chooseBackend(desktop(none)).backend).toBe('wasm')
    const c = chooseBackend(
      desktop({ ...none, wasm: { loads: false, error: 'no WebAssembly' } }),
      'auto',
      'Xeon (2 cores)',
    )
    expect(c).toEqual({
      backend: 'cpu',
      device: 'Xeon (2 cores)',
      notes: [
        'tensorflow: @tensorflow/tfjs-node-gpu is not installed',
        'webgpu: no adapter',
        'webgl: no WebGL2',
        'wasm: no WebAssembly',
      ],
    })
  })

  it('under Node says the GPU options need a browser renderer', () => {
    const c = chooseBackend(node())
    expect(c.backend).toBe('wasm')
    expect(c.notes.slice(1).every((n) => /only in a browser renderer/.test(n))).toBe(true)
  })

  it('uses a forced backend where it runs, the software adapter included, with a note', () => {
    const c = chooseBackend(desktop({ webgpu: swiftshader }), 'webgpu')
    expect(c.backend).toBe('webgpu')
    expect(c.notes).toEqual([
      expect.stringMatching(/^webgpu: forced \(the adapter .* software fallback/),
    ])
    expect(chooseBackend(desktop(), 'cpu')).toEqual({ backend: 'cpu', device: 'CPU', notes: [] })
  })

  it('chooses automatically when the forced backend cannot run, and says so', () => {
    const c = chooseBackend(node(), 'webgpu')
    expect(c.backend).toBe('wasm')
    expect(c.notes[0]).toMatch(
      /^webgpu: asked for, but it cannot run here \(only in a browser renderer/,
    )
  })
})

describe('isSoftwareRenderer', () => {
  it('knows the software renderers', () => {
    for (const r of [
      'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))',
      'llvmpipe (LLVM 15.0.6, 256 bits)',
      'Microsoft Basic Render Driver',
    ])
      expect(isSoftwareRenderer(r)).toBe(true)
    expect(isSoftwareRenderer('ANGLE (AMD, Radeon RX 7900 XTX)')).toBe(false)
  })
})
