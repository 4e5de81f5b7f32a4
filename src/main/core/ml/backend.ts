import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
// tfjs-layers' Node bundle registers the gradient of every core op (tfjs-core's own Node bundle
// does not, and its deep ESM paths cannot be imported under Node).
import '@tensorflow/tfjs-layers'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { registerWasmKernels } from './wasm-kernels'

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

export interface BackendInfo {
  backend: BackendName
  /** What runs the maths: a GPU's name, or a CPU description. */
  device: string
  /** Why each better backend was not used, best first. */
  notes: string[]
  threads: number
  simd: boolean
}

const nodeRequire = createRequire(import.meta.url)
let current: Promise<BackendInfo> | null = null

/**
 * Picks the best backend this machine can load, best first: @tensorflow/tfjs-node-gpu (CUDA GPU,
 * else its native CPU kernels), then the WebAssembly backend (XNNPACK, SIMD), then plain JS.
 * `prefer` forces one (used by tests and `--backend`). The result says why better ones were skipped.
 */
export function initBackend(prefer: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
  current ??= choose(prefer)
  return current
}

async function choose(prefer: BackendName | 'auto'): Promise<BackendInfo> {
  const notes: string[] = []
  if (prefer === 'auto' || prefer === 'tensorflow') {
    const native = await tryNative(notes)
    if (native) return native
  } else notes.push(`tensorflow: not tried (backend ${prefer} was asked for)`)
  if (prefer === 'auto' || prefer === 'wasm') {
    const wasm = await tryWasm(notes)
    if (wasm) return wasm
  } else notes.push(`wasm: not tried (backend ${prefer} was asked for)`)
  await tf.setBackend('cpu')
  await tf.ready()
  return { backend: 'cpu', device: cpuName(), notes, threads: 1, simd: false }
}

async function tryNative(notes: string[]): Promise<BackendInfo | null> {
  try {
    nodeRequire('@tensorflow/tfjs-node-gpu')
    await tf.setBackend('tensorflow')
    await tf.ready()
    const gpu = gpuName()
    if (!gpu)
      notes.push(
        'GPU: tfjs-node-gpu loaded but found no CUDA GPU (nvidia-smi lists none); using its native CPU kernels',
      )
    return { backend: 'tensorflow', device: gpu ?? cpuName(), notes, threads: 0, simd: true }
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err)
    const why = /Cannot find module '@tensorflow\/tfjs-node-gpu'/.test(msg)
      ? 'GPU: @tensorflow/tfjs-node-gpu is not installed (it is optional; its install downloads libtensorflow with CUDA, which failed or was skipped)'
      : `GPU: @tensorflow/tfjs-node-gpu did not load (${msg})`
    notes.push(why)
    return null
  }
}

async function tryWasm(notes: string[]): Promise<BackendInfo | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    const dist =
      join(dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/'
    wasm.setWasmPaths(dist)
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise')
    await tf.ready()
    registerWasmKernels()
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
    notes.push(
      'wasm: one thread (tfjs 4.22 turns wasm threads off under Node, tensorflow/tfjs#3830)',
    )
    return {
      backend: 'wasm',
      device: `${cpuName()} via WebAssembly${simd ? ' SIMD' : ''}`,
      notes,
      threads: 1,
      simd,
    }
  } catch (err) {
    notes.push(`wasm: did not load (${err instanceof Error ? err.message : String(err)})`)
    return null
  }
}

function gpuName(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 5000,
    })
    return out.trim().split('\n')[0] || null
  } catch {
    return null
  }
}

function cpuName(): string {
  const all = cpus()
  return `${all[0]?.model?.trim() ?? 'CPU'} (${all.length} cores)`
}
