import * as tf from '@tensorflow/tfjs-core'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'

interface WebGpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } }
  disposeData(dataId: object): boolean
}

/**
 * tfjs-backend-webgpu 4.22's AddN binds every input as a storage buffer in one shader; a gradient
 * summed from more than (the device's limit - 1) paths (7 on a default device: a weight shared by
 * the decoder's two passes and the classifier's) makes an invalid pipeline, and the step's
 * results are silently garbage. This runs AddN in chunks the device can bind, then sums those.
 */
export function registerChunkedAddN(): void {
  const original = tf.getKernel('AddN', 'webgpu')
  if (!original || (original as { chunked?: boolean }).chunked) return
  const run = original.kernelFunc
  const chunked = ((args: Parameters<KernelFunc>[0]) => {
    const inputs = args.inputs as unknown as TensorInfo[]
    const backend = args.backend as unknown as WebGpuBackendLike
    const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
    if (inputs.length <= max) return run(args)
    const made: TensorInfo[] = []
    let parts = [...inputs]
    while (parts.length > max) {
      const next: TensorInfo[] = []
      for (let i = 0; i < parts.length; i += max) {
        const chunk = parts.slice(i, i + max)
        if (chunk.length === 1) next.push(chunk[0])
        else {
          const sum = run({
            ...args,
            inputs: chunk as unknown as tf.NamedTensorInfoMap,
          }) as TensorInfo
          made.push(sum)
          next.push(sum)
        }
      }
      parts = next
    }
    const out = run({ ...args, inputs: parts as unknown as tf.NamedTensorInfoMap }) as TensorInfo
    for (const t of made) backend.disposeData(t.dataId)
    return out
  }) as KernelFunc
  tf.unregisterKernel('AddN', 'webgpu')
  tf.registerKernel({ ...original, kernelFunc: chunked, chunked: true } as tf.KernelConfig)
}
