import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
// tfjs-layers' Node bundle registers the gradient of every core op (tfjs-core's own Node bundle
// does not, and its deep ESM paths cannot be imported under Node).
import '@tensorflow/tfjs-layers'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import type { BackendInfo, BackendName } from '../../shared/backend'
import { wasmBackend } from './heap'
import { registerWasmKernels } from './register'
import { setSimdThreads } from './pool'
import { relaxedSimdUnavailable, simdKernelsUnavailable, simdPath } from './simd-module'
import { enableWasmThreadsForNode, wantedWasmThreads } from './node-threads'
import { rendererOnlyNotes } from './gpu-choice'

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
  notes.push(...rendererOnlyNotes())
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
    const wanted = wantedWasmThreads()
    let threads = 1
    if (wanted > 1) {
      try {
        threads = await startThreaded(wasm, join(dist, 'tf-backend-wasm.node.js'), wanted)
      } catch (err) {
        notes.push(
          `wasm: threads did not start (${err instanceof Error ? err.message : String(err)}); using one`,
        )
      }
    } else notes.push('wasm: one thread (SYNTHFOLD_WASM_THREADS=1 or a single core)')
    if (threads <= 1) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise')
    }
    await tf.ready()
    registerWasmKernels()
    setSimdThreads(threads)
    const unavailable = simdKernelsUnavailable(wasmBackend())
    if (unavailable)
      notes.push(
        `wasm: Synthfold's SIMD kernels are not in use (${unavailable}); elementwise work runs as JavaScript loops, slower`,
      )
    const relaxedOff = relaxedSimdUnavailable(wasmBackend())
    if (relaxedOff)
      notes.push(
        `wasm: Synthfold's kernels run without relaxed SIMD (${relaxedOff}); products multiply and add separately`,
      )
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
    const relaxed = simdPath(wasmBackend()) === 'relaxed' ? ' relaxed' : ''
    return {
      backend: 'wasm',
      device: `${cpuName()} via WebAssembly${simd ? `${relaxed} SIMD` : ''}, ${threads} thread${threads === 1 ? '' : 's'}`,
      notes,
      threads,
      simd,
    }
  } catch (err) {
    notes.push(`wasm: did not load (${err instanceof Error ? err.message : String(err)})`)
    return null
  }
}

const THREAD_START_MS = 30_000

interface PThreadPool {
  unusedWorkers?: { unref?: () => void }[]
  runningWorkers?: { unref?: () => void }[]
}

/** Starts the threaded SIMD build (see node-threads.ts); resolves to the pool's thread count. */
async function startThreaded(
  wasm: { setThreadsCount(n: number): void; getThreadsCount(): number },
  bundle: string,
  threads: number,
): Promise<number> {
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('no wasm SIMD')
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)
  wasm.setThreadsCount(threads)
  const patch = enableWasmThreadsForNode(bundle, threads)
  try {
    // A worker that never starts would leave the backend pending for ever: give up after a while
    // (a later setBackend starts a fresh, single-threaded initialisation).
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`its workers did not start in ${THREAD_START_MS / 1000} s`)),
        THREAD_START_MS,
      )
    })
    try {
      const ok = await Promise.race([tf.setBackend('wasm'), timeout])
      if (!ok) throw new Error(patch.error() ?? 'the threaded build failed to initialise')
      await Promise.race([tf.ready(), timeout])
    } finally {
      clearTimeout(timer)
    }
  } finally {
    patch.restore()
  }
  // The pool's workers must not keep the process alive once its work is done.
  const pthreads = (tf.backend() as unknown as { wasm?: { PThread?: PThreadPool } }).wasm?.PThread
  for (const w of [...(pthreads?.unusedWorkers ?? []), ...(pthreads?.runningWorkers ?? [])])
    w.unref?.()
  return wasm.getThreadsCount()
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
