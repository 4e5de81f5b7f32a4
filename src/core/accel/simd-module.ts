import {
  RELAXED_SHARED_MEMORY_MODULE,
  RELAXED_UNSHARED_MEMORY_MODULE,
  SHARED_MEMORY_MODULE,
  UNSHARED_MEMORY_MODULE,
} from './simd/kernels.wasm'
import type { WasmBackendLike } from './heap'
import { envVar } from '../util/runtime'

/**
 * Synthfold's WebAssembly SIMD kernels (simd/*.wat), instantiated on the memory of tfjs's
 * wasm backend so they read and write its tensors in place. Pointers are byte offsets into that
 * memory (a tensor's `memoryOffset`), counts are elements.
 */
export interface SimdKernels {
  leaky_relu(x: number, y: number, n: number, alpha: number): void
  leaky_relu_grad(dy: number, x: number, d: number, n: number, alpha: number): void
  sum_rows(x: number, out: number, rows: number, inner: number): void
  sum_squares(x: number, n: number): number
  bce_logits_sum(l: number, t: number, n: number): number
  bce_logits_grad(l: number, t: number, out: number, n: number, scale: number): void
  col2im(
    y: number,
    dx: number,
    B: number,
    OH: number,
    OW: number,
    H: number,
    W: number,
    KH: number,
    KW: number,
    Ci: number,
    strideHeight: number,
    strideWidth: number,
    top: number,
    left: number,
  ): void
  copy_blocks(
    src: number,
    dst: number,
    rows: number,
    cols: number,
    n: number,
    srcRow: number,
    srcCol: number,
    dstRow: number,
    dstCol: number,
  ): void
  im2col(
    x: number,
    p: number,
    B: number,
    XH: number,
    XW: number,
    Ci: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    strideHeight: number,
    strideWidth: number,
    top: number,
    left: number,
  ): void
  /** c (+)= op(a) b; strides in bytes (simd/*.wat). */
  gemm(
    a: number,
    ars: number,
    acs: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    accumulate: number,
  ): void
  /** Claims and does slots of the job at ctl (pool.ts); returns how many it did. */
  work(ctl: number, thread: number): number
  /** dst[i] += src[i] for i < n. */
  add_into(dst: number, src: number, n: number): void
  transpose(
    src: number,
    dst: number,
    rows: number,
    cols: number,
    srcStride: number,
    dstStride: number,
    count: number,
    srcStep: number,
    dstStep: number,
  ): void
  adam(
    w: number,
    m: number,
    v: number,
    g: number,
    wOut: number,
    mOut: number,
    vOut: number,
    n: number,
    scale: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    c1: number,
    c2: number,
    epsilon: number,
    negLearningRate: number,
  ): void
}

/**
 * Which build of the module runs: `relaxed` has relaxed SIMD's fused multiply-add
 * (`f32x4.relaxed_madd`) in its matrix products (gemm, so every convolution on the pool); `plain`
 * multiplies and adds separately. Both give results within float rounding of each other, and each
 * is deterministic on its own (the same machine gives the same bits).
 */
export type SimdPath = 'relaxed' | 'plain'

interface Loaded {
  kernels: SimdKernels | null
  module: WebAssembly.Module | null
  path: SimdPath
  /** Why the relaxed build does not run (null when it does). */
  relaxedNote: string | null
}

/** The builds loaded on each memory, by whether the relaxed one was allowed. */
let instances = new WeakMap<WebAssembly.Memory, Map<boolean, Loaded>>()
let failure: string | null = null
let enabled = envVar('SYNTHFOLD_SIMD_KERNELS') !== '0'
let relaxedWanted = envVar('SYNTHFOLD_RELAXED_SIMD') !== '0'
let validate = (bytes: Uint8Array<ArrayBuffer>): boolean => WebAssembly.validate(bytes)

/** Turns the kernels off (the plain JavaScript loops run instead): for tests and comparisons. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on
}

/**
 * Allows or forbids the relaxed build (`SYNTHFOLD_RELAXED_SIMD=0` forbids it from the start);
 * from the next `simdKernels` call the build that applies runs (each build keeps its own pool).
 */
export function setRelaxedSimdEnabled(on: boolean): void {
  relaxedWanted = on
}

/**
 * Replaces the engine's `WebAssembly.validate` for the relaxed build (tests fake an engine that
 * refuses it); null restores it. Forgets the builds loaded so far.
 */
export function setRelaxedSimdValidator(
  fn: ((bytes: Uint8Array<ArrayBuffer>) => boolean) | null,
): void {
  validate = fn ?? ((bytes) => WebAssembly.validate(bytes))
  instances = new WeakMap()
}

const decode = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))

/**
 * The builds to try for a memory, best first: the relaxed one only where it is allowed and the
 * engine validates it; `note` says why it is left out.
 */
export function simdBuilds(shared: boolean): {
  builds: { path: SimdPath; base64: string }[]
  note: string | null
} {
  const plain = {
    path: 'plain' as const,
    base64: shared ? SHARED_MEMORY_MODULE : UNSHARED_MEMORY_MODULE,
  }
  if (!relaxedWanted) return { builds: [plain], note: 'turned off by SYNTHFOLD_RELAXED_SIMD=0' }
  const base64 = shared ? RELAXED_SHARED_MEMORY_MODULE : RELAXED_UNSHARED_MEMORY_MODULE
  let valid = false
  try {
    valid = validate(decode(base64))
  } catch {
    valid = false
  }
  if (!valid)
    return { builds: [plain], note: 'this WebAssembly engine does not validate relaxed SIMD' }
  return { builds: [{ path: 'relaxed', base64 }, plain], note: null }
}

function memoryOf(backend: WasmBackendLike): WebAssembly.Memory | null {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
  return memory instanceof WebAssembly.Memory ? memory : null
}

function load(memory: WebAssembly.Memory): Loaded {
  const byWish = instances.get(memory) ?? new Map<boolean, Loaded>()
  instances.set(memory, byWish)
  const known = byWish.get(relaxedWanted)
  if (known) return known
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer
  const { builds, note } = simdBuilds(shared)
  let relaxedNote = note
  let loaded: Loaded = { kernels: null, module: null, path: 'plain', relaxedNote }
  for (const build of builds) {
    try {
      const module = new WebAssembly.Module(decode(build.base64))
      const instance = new WebAssembly.Instance(module, { env: { memory } })
      const kernels = instance.exports as unknown as SimdKernels
      loaded = { kernels, module, path: build.path, relaxedNote }
      failure = null
      break
    } catch (err) {
      // the relaxed build falls back to the plain one; an engine without SIMD to the loops
      const message = err instanceof Error ? err.message : String(err)
      if (build.path === 'relaxed') relaxedNote = `the relaxed build failed to load (${message})`
      else failure = message
    }
  }
  byWish.set(relaxedWanted, loaded)
  return loaded
}

/** The kernels on this backend's memory, or null where they cannot be used (then loops run). */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (!enabled) return null
  const memory = memoryOf(backend)
  return memory ? load(memory).kernels : null
}

/** The build the kernels run on this backend (null when they do not run at all). */
export function simdPath(backend: WasmBackendLike): SimdPath | null {
  if (!simdKernels(backend)) return null
  return load(memoryOf(backend) as WebAssembly.Memory).path
}

/** Why the relaxed build is not in use on this backend, or null when it is (or no kernels run). */
export function relaxedSimdUnavailable(backend: WasmBackendLike): string | null {
  if (simdPath(backend) !== 'plain') return null
  return load(memoryOf(backend) as WebAssembly.Memory).relaxedNote
}

/** The compiled module and the memory the kernels run on (for workers to share), or null. */
export function simdModule(
  backend: WasmBackendLike,
): { module: WebAssembly.Module; memory: WebAssembly.Memory } | null {
  if (!simdKernels(backend)) return null
  const memory = memoryOf(backend) as WebAssembly.Memory
  const { module } = load(memory)
  return module ? { module, memory } : null
}

/** Why the kernels are not in use on this backend (for `synthfold doctor`), or null if they are. */
export function simdKernelsUnavailable(backend: WasmBackendLike): string | null {
  if (!enabled) return 'turned off by SYNTHFOLD_SIMD_KERNELS=0'
  if (simdKernels(backend)) return null
  return failure ?? "the wasm backend's memory is not reachable"
}
