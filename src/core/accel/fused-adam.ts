import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapF32, pointer, wasmBackend, type KernelArgs, type WasmBackendLike } from './heap'
import { simdKernels } from './simd-module'

/**
 * Adam with the gradient's clipping scale folded in, one pass over memory per variable on wasm.
 * tfjs's AdamOptimizer runs about a dozen elementwise kernels per variable (and clipping one more),
 * each reading and writing whole tensors; on the wasm backend, where Synthfold's SIMD module
 * loads, one kernel does all of it, with the same operations in the same order, so the result is
 * the same to the bit (test/unit/accel/fused-adam.test.ts). Elsewhere it is tfjs's own Adam on the scaled
 * gradients. State, checkpoints (getWeights/setWeights) and the learning rate are AdamOptimizer's.
 */

export const ADAM_STEP = 'SynthfoldAdamStep'

/** Gradients by variable name (tfjs types them as variables; any tensor will do). */
type Grads = Parameters<tf.AdamOptimizer['applyGradients']>[0] | Record<string, tf.Tensor>

interface AdamInternals {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: tf.Variable
  accBeta2: tf.Variable
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[]
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[]
  incrementIterations(): void
}

/** The fused step's kernel (wasm only): new values of the variable and both moments. */
function adamStep({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
  const { w, m, v, g, scale, c1, c2 } = inputs as Record<string, TensorInfo>
  const { beta1, beta2, epsilon, learningRate } = attrs as Record<string, number>
  const b = backend as WasmBackendLike
  const simd = simdKernels(b)
  if (!simd) throw new Error(`${ADAM_STEP} needs Synthfold's SIMD kernels`)
  const outs = [w, m, v].map((t) => b.makeOutput(t.shape, 'float32'))
  const at = (t: TensorInfo): number => pointer(b, t.dataId)
  const first = (t: TensorInfo): number => heapF32(b, t)[0]
  simd.adam(
    at(w),
    at(m),
    at(v),
    at(g),
    at(outs[0]),
    at(outs[1]),
    at(outs[2]),
    tf.util.sizeFromShape(w.shape),
    first(scale),
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    first(c1),
    first(c2),
    epsilon,
    -learningRate,
  )
  return outs
}

let registered = false
/** Registers the fused step on the wasm backend (loaded first). */
export function registerAdamKernel(): void {
  if (registered) return
  tf.registerKernel({
    kernelName: ADAM_STEP,
    backendName: 'wasm',
    kernelFunc: adamStep as unknown as KernelFunc,
  })
  registered = true
}

export class FusedAdam extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon as number)
  }

  /**
   * One step; `scale` (a scalar, from clipping by global norm) multiplies every gradient first,
   * exactly as `tf.mul(gradient, scale)` would.
   */
  override applyGradients(grads: Grads, scale?: tf.Scalar): void {
    const fused =
      !Array.isArray(grads) &&
      tf.getBackend() === 'wasm' &&
      tf.getKernel(ADAM_STEP, 'wasm') !== undefined &&
      simdKernels(wasmBackend()) !== null &&
      Object.values(grads).every((g) => g == null || g.dtype === 'float32')
    if (!fused) {
      if (!scale) return super.applyGradients(grads as Record<string, tf.Variable>)
      const scaled = tf.tidy(() =>
        Array.isArray(grads)
          ? grads.map((g) => ({ name: g.name, tensor: tf.mul(g.tensor, scale) }))
          : Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)])),
      ) as Grads
      super.applyGradients(scaled as Record<string, tf.Variable>)
      tf.dispose(Array.isArray(scaled) ? scaled.map((g) => g.tensor) : Object.values(scaled))
      return
    }
    const self = this as unknown as AdamInternals
    tf.tidy(() => {
      const c1 = tf.sub(1, self.accBeta1)
      const c2 = tf.sub(1, self.accBeta2)
      const s = scale ?? tf.scalar(1)
      Object.keys(grads).forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]
        // Moments created as AdamOptimizer creates them (names and order matter to checkpoints).
        self.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }
        self.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }
        const g = grads[name]
        if (g == null) return
        const m = self.accumulatedFirstMoment[i].variable
        const v = self.accumulatedSecondMoment[i].variable
        const [w2, m2, v2] = tf.engine().runKernel(
          ADAM_STEP,
          { w: value, m, v, g, scale: s, c1, c2 },
          {
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            learningRate: self.learningRate,
          },
        ) as tf.Tensor[]
        m.assign(m2)
        v.assign(v2)
        value.assign(w2)
      })
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1))
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2))
    })
    self.incrementIterations()
  }
}
