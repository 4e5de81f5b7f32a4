import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core'
import { conv2dBackpropFilter, makeConv2d, makeConv2dBackpropInput } from './conv-gradients'
import { registerCrossEntropyKernels } from './cross-entropy'
import { registerElementwiseKernels } from './elementwise'
import { registerAdamKernel } from './fused-adam'
import { replaceWasmKernel } from './heap'
import { makeBatchMatMul } from './matmul'
import { registerPoolWake } from './pool-wake'
import { registerTransposeKernel } from './transpose'

/**
 * Kernels that the tfjs 4.22 wasm backend lacks or runs on a slow path, rebuilt from kernels it
 * runs in XNNPACK and from Synthfold's SIMD module (simd-module.ts): convolutions and their
 * gradients (conv-gradients.ts), matrix products (matmul.ts), elementwise work (elementwise.ts),
 * transposes (transpose.ts), the cross-entropy (cross-entropy.ts) and the fused Adam step
 * (fused-adam.ts). This is the one place they are registered.
 */
let registered = false

/** Registers the replacement kernels once; the wasm backend must be loaded first. */
export function registerWasmKernels(): void {
  if (registered) return
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter as KernelConfig['kernelFunc'],
    })
  }
  replaceWasmKernel('Conv2D', (o) => makeConv2d(o) as KernelFunc)
  replaceWasmKernel('Conv2DBackpropInput', (o) => makeConv2dBackpropInput(o) as KernelFunc)
  replaceWasmKernel('BatchMatMul', (o) => makeBatchMatMul(o) as KernelFunc)
  registerElementwiseKernels()
  registerTransposeKernel()
  registerPoolWake()
  registerCrossEntropyKernels()
  registerAdamKernel()
  registered = true
}
