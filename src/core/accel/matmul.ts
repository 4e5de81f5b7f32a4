import * as tf from '@tensorflow/tfjs-core'
import type { DataId, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { output, view, type KernelArgs, type WasmBackendLike } from './heap'
import { matrixProduct, pooledMatrixProduct } from './matmul-job'
import { envVar } from '../util/runtime'

/**
 * BatchMatMul for the wasm backend. tfjs 4.22 runs a product on XNNPACK only without transposed
 * operands and with a batch of one; everything else goes to a scalar loop. XNNPACK also packs the
 * right operand (B, "the weights") into its own layout before every product with a B it has not
 * seen, single-threaded, at about 2 ns an element, and caches that per tensor. In training every
 * weight is a new tensor at every step, so the packing is paid every time: for the encoder's dense
 * layer (3146 x 256) it took longer than the product itself.
 *
 * So each product is run in whichever orientation costs less: C = A B directly, or as
 * C = (B^T A^T)^T, where the packed operand is A (the batch of activations: small in training)
 * instead of B. The cost model counts the elements each way packs and transposes. A B already used
 * (untransposed) in two earlier products, such as weights at inference, reused batch after batch,
 * is worth packing: it runs directly, and XNNPACK keeps it packed from then on.
 */

/** Relative cost per element of packing (XNNPACK) and of transposing (tfjs's wasm Transpose). */
const PACK = 2.2
const TRANSPOSE = 0.3
/** Fixed cost of an extra kernel call, in the same units (about 30 µs). */
const CALL = 100_000
/**
 * Products of at least this many multiply-adds (M K N) of fresh operands run on Synthfold's pool
 * (matmul-job.ts) instead of XNNPACK, which packs B first on one thread. SYNTHFOLD_POOL_MATMUL=0
 * keeps every product on XNNPACK (for measurements, bench/README.md).
 */
const POOL_MIN_WORK = 1 << 16
let poolProducts = envVar('SYNTHFOLD_POOL_MATMUL') !== '0'
/** Turns the pool's products on or off (tests, bench/train/ab.ts). */
export function setPoolMatMulEnabled(on: boolean): void {
  poolProducts = on
}

/**
 * Which transposes a product on the pool needs: `gemm` takes op(A) by strides but B only as
 * K x N rows. For a transposed B, either B is transposed (N K elements), or C^T = B op(A)^T is
 * computed, B's rows being op(A)-like, with op(A)^T as K x M rows (a transpose of A unless A is
 * stored transposed) and C^T transposed back (M N): whichever moves fewer elements.
 */
export function planPoolProduct(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): { swapped: boolean } {
  if (!transposeB) return { swapped: false }
  return { swapped: (transposeA ? 0 : m * k) + m * n < n * k }
}

/** Products with this tensor as untransposed B so far: tells reused weights from fresh ones. */
const usesAsB = new WeakMap<DataId, number>()

/** Swaps the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i)
  const r = perm.length
  ;[perm[r - 1], perm[r - 2]] = [perm[r - 2], perm[r - 1]]
  return tf.transpose(t, perm)
}

interface Plan {
  swapped: boolean
}

/**
 * Which orientation to run op(A) [M,K] x op(B) [K,N] in. `cachedB`: B is reused, so its packing
 * is paid once (only for a B used untransposed).
 */
export function planMatMul(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
  cachedB: boolean,
): Plan {
  const direct =
    (transposeA ? TRANSPOSE * m * k + CALL : 0) +
    (transposeB ? TRANSPOSE * k * n + CALL : 0) +
    (cachedB && !transposeB ? 0 : PACK * k * n)
  const swapped =
    (transposeB ? 0 : TRANSPOSE * k * n + CALL) +
    (transposeA ? 0 : TRANSPOSE * m * k + CALL) +
    PACK * k * m +
    TRANSPOSE * m * n +
    CALL
  // Swapping changes the product's shape for XNNPACK; only take it for a clear gain.
  return { swapped: swapped < 0.6 * direct }
}

export function makeBatchMatMul(original: KernelFunc) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean }
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
    const batch = (t: TensorInfo): number => t.shape.slice(0, -2).reduce((p, d) => p * d, 1)
    const r = a.shape.length
    const [m, k] = transposeA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]]
    const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]
    const single = batch(a) === 1 && batch(b) === 1 && a.dtype === 'float32'
    const key = typeof b.dataId === 'object' ? b.dataId : null
    const uses = (key && usesAsB.get(key)) ?? 0
    if (key && !transposeB) usesAsB.set(key, uses + 1)
    if (
      single &&
      b.dtype === 'float32' &&
      poolProducts &&
      uses < 2 &&
      m * k * n >= POOL_MIN_WORK &&
      pooledMatrixProduct(args.backend as WasmBackendLike)
    )
      return pooledProduct(args.backend as WasmBackendLike, a, b, m, k, n, transposeA, transposeB)
    const plan = single
      ? planMatMul(m, k, n, transposeA, transposeB, uses >= 2)
      : { swapped: false }
    if (!plan.swapped && !transposeA && !transposeB)
      return original(args as Parameters<KernelFunc>[0])
    // The fast path itself, on operands laid out for it (never re-planned).
    const plain = (A: tf.Tensor, B: tf.Tensor): tf.Tensor =>
      tf.engine().makeTensorFromTensorInfo(
        original({
          inputs: { a: A, b: B },
          attrs: { transposeA: false, transposeB: false },
          backend: args.backend,
        } as unknown as Parameters<KernelFunc>[0]) as TensorInfo,
      )
    return output(
      tf.tidy(() => {
        if (!plan.swapped) {
          // The transposes first (cheap), then the fast plain product.
          const A = transposeA ? swapLast(view(a)) : view(a)
          const B = transposeB ? swapLast(view(b)) : view(b)
          return plain(A, B)
        }
        // C^T = op(B)^T op(A)^T: B stored transposed is already op(B)^T, and so on.
        const Bt = transposeB ? view(b) : swapLast(view(b))
        const At = transposeA ? view(a) : swapLast(view(a))
        return swapLast(plain(Bt, At))
      }),
    )
  }
}

/** op(A) op(B) on the pool (matmul-job.ts), with the transposes `planPoolProduct` picks. */
function pooledProduct(
  backend: WasmBackendLike,
  a: TensorInfo,
  b: TensorInfo,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const lead = a.shape.slice(0, -2)
  if (!transposeB) {
    const out = backend.makeOutput([...lead, m, n], 'float32')
    matrixProduct(backend, a, transposeA, b, out, m, k, n)
    return out
  }
  return output(
    tf.tidy(() => {
      if (!planPoolProduct(m, k, n, transposeA, transposeB).swapped) {
        const B = swapLast(view(b))
        const out = tf
          .engine()
          .makeTensorFromTensorInfo(backend.makeOutput([...lead, m, n], 'float32'))
        matrixProduct(backend, a, transposeA, B, out, m, k, n)
        return out
      }
      // C^T (n x m) = B op(A)^T: B (n x k rows) as the strided operand, op(A)^T as k x m rows.
      const At = transposeA ? view(a) : swapLast(view(a))
      const ct = tf
        .engine()
        .makeTensorFromTensorInfo(backend.makeOutput([...lead, n, m], 'float32'))
      matrixProduct(backend, b, false, At, ct, n, k, m)
      return swapLast(ct)
    }),
  )
}
