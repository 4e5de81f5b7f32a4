import { SHARED_MEMORY_MODULE, UNSHARED_MEMORY_MODULE } from './simd/kernels.wasm'
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

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>()
const modules = new WeakMap<WebAssembly.Memory, WebAssembly.Module>()
let failure: string | null = null
let enabled = envVar('SYNTHFOLD_SIMD_KERNELS') !== '0'

/** Turns the kernels off (the plain JavaScript loops run instead): for tests and comparisons. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on
}

const decode = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))

/** The kernels on this backend's memory, or null where they cannot be used (then loops run). */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (!enabled) return null
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
  if (!(memory instanceof WebAssembly.Memory)) return null
  const known = instances.get(memory)
  if (known !== undefined) return known
  let kernels: SimdKernels | null = null
  try {
    const shared =
      typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer
    const bytes = decode(shared ? SHARED_MEMORY_MODULE : UNSHARED_MEMORY_MODULE)
    const module = new WebAssembly.Module(bytes)
    const instance = new WebAssembly.Instance(module, { env: { memory } })
    kernels = instance.exports as unknown as SimdKernels
    modules.set(memory, module)
  } catch (err) {
    kernels = null // an engine without SIMD: the loops are correct, only slower
    failure = err instanceof Error ? err.message : String(err)
  }
  instances.set(memory, kernels)
  return kernels
}

/** The compiled module and the memory the kernels run on (for workers to share), or null. */
export function simdModule(
  backend: WasmBackendLike,
): { module: WebAssembly.Module; memory: WebAssembly.Memory } | null {
  if (!simdKernels(backend)) return null
  const memory = (backend.wasm.wasmMemory ?? backend.wasm.asm?.memory) as WebAssembly.Memory
  const module = modules.get(memory)
  return module ? { module, memory } : null
}

/** Why the kernels are not in use on this backend (for `synthfold doctor`), or null if they are. */
export function simdKernelsUnavailable(backend: WasmBackendLike): string | null {
  if (!enabled) return 'turned off by SYNTHFOLD_SIMD_KERNELS=0'
  if (simdKernels(backend)) return null
  return failure ?? "the wasm backend's memory is not reachable"
}
