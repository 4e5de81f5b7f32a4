// bench/train/gemm.ts: an experimental GEMM of our own (gemm-kernel.wat, one thread, both operands
// packed per call) against the products tfjs's wasm backend runs in XNNPACK (two threads here),
// on the shapes of the default CVAE's training step, in the same process on the same memory.
// Not used by the app: it measures whether replacing XNNPACK's products could pay (bench/README).
// Usage: node --import tsx bench/train/gemm.ts
import { readFileSync } from 'node:fs'
import wabtInit from 'wabt'
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../../src/core/accel/backend'
import { pointer, type WasmBackendLike } from '../../src/core/accel/heap'

interface Kernel {
  pack_a(
    a: number,
    rsa: number,
    csa: number,
    ap: number,
    M: number,
    K: number,
    i0: number,
    i1: number,
  ): void
  pack_b(
    b: number,
    rsb: number,
    csb: number,
    bp: number,
    K: number,
    N: number,
    j0: number,
    j1: number,
  ): void
  gemm(
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    i0: number,
    i1: number,
    scratch: number,
  ): void
}

const info = await initBackend('wasm')
const backend = tf.backend() as unknown as WasmBackendLike
const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
if (!(memory instanceof WebAssembly.Memory))
  throw new Error("the wasm backend's memory is not reachable")
const wabt = await wabtInit()
const shared = memory.buffer instanceof SharedArrayBuffer
const text = readFileSync(new URL('gemm-kernel.wat', import.meta.url), 'utf8')
const parsed = wabt.parseWat(
  'gemm-kernel.wat',
  shared ? text : text.replace('(memory 1 65536 shared)', '(memory 1)'),
  {
    simd: true,
    threads: true,
  },
)
const kernel = new WebAssembly.Instance(
  new WebAssembly.Module(Uint8Array.from(parsed.toBinary({}).buffer)),
  {
    env: { memory },
  },
).exports as unknown as Kernel

/** A B (either transposed) with the experimental kernel: both packings, then the product. */
function ours(a: tf.Tensor2D, b: tf.Tensor2D, ta: boolean, tb: boolean): tf.Tensor {
  const [M, K] = ta ? [a.shape[1], a.shape[0]] : a.shape
  const N = tb ? b.shape[0] : b.shape[1]
  const [nI, nJ] = [Math.ceil(M / 4), Math.ceil(N / 8)]
  const ap = backend.makeOutput([nI * K * 4], 'float32')
  const bp = backend.makeOutput([nJ * K * 8], 'float32')
  const scratch = backend.makeOutput([32], 'float32')
  const c = backend.makeOutput([M, N], 'float32')
  const at = (t: { dataId: object }): number => pointer(backend, t.dataId)
  kernel.pack_a(at(a), ta ? 4 : K * 4, ta ? M * 4 : 4, at(ap), M, K, 0, nI)
  kernel.pack_b(at(b), tb ? 4 : N * 4, tb ? K * 4 : 4, at(bp), K, N, 0, nJ)
  kernel.gemm(at(ap), at(bp), at(c), N * 4, M, N, K, 0, nI, at(scratch))
  for (const t of [ap, bp, scratch]) backend.disposeData(t.dataId)
  return tf.engine().makeTensorFromTensorInfo(c)
}

const best = (f: () => tf.Tensor): number => {
  let ms = Infinity
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now()
    const y = f()
    y.dataSync()
    ms = Math.min(ms, performance.now() - t0)
    y.dispose()
  }
  return ms
}

console.log(`bench/train/gemm: ${info.device}; ours on one thread, XNNPACK on ${info.threads}`)
// [M, K, N, A transposed, B transposed]: the CVAE step's products at batch 64
const shapes: [number, number, number, boolean, boolean][] = [
  [64, 3146, 256, false, false],
  [64, 256, 3146, false, true],
  [3146, 64, 256, true, false],
  [64, 3136, 512, true, false],
  [3136, 512, 64, false, false],
  [3136, 256, 32, false, false],
  [32, 12544, 16, true, false],
  [64, 26, 3136, false, false],
]
for (const [M, K, N, ta, tb] of shapes) {
  const a = tf.randomNormal(ta ? [K, M] : [M, K]) as tf.Tensor2D
  const b = tf.randomNormal(tb ? [N, K] : [K, N]) as tf.Tensor2D
  const worst = tf.tidy(
    () => tf.max(tf.abs(tf.sub(tf.matMul(a, b, ta, tb), ours(a, b, ta, tb)))).dataSync()[0],
  )
  const xnn = best(() => tf.matMul(a, b, ta, tb))
  const own = best(() => ours(a, b, ta, tb))
  const mflop = (2 * M * N * K) / 1e6
  const name = `${M}x${K}${ta ? 'ᵀ' : ''} · ${K}x${N}${tb ? 'ᵀ' : ''}`
  console.log(
    `  ${name.padEnd(24)} XNNPACK ${xnn.toFixed(2)} ms (${(mflop / xnn).toFixed(0)} GFLOP/s)   ours ${own.toFixed(2)} ms (${(mflop / own).toFixed(0)} GFLOP/s)   ratio ${(xnn / own).toFixed(2)}x   max diff ${worst.toExponential(1)}`,
  )
  a.dispose()
  b.dispose()
}
