import * as tf from '@tensorflow/tfjs-core'
import type {
  DataId,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core'

/**
 * Direct access to tensors in the wasm backend's memory, for kernels written as plain loops
 * (elementwise work and data movement that tfjs 4.22's wasm build runs slowly or in several passes).
 */
export interface WasmBackendLike {
  wasm: {
    HEAPU8: Uint8Array
    /** The memory: here with threads (shared), in `asm` without. */
    wasmMemory?: WebAssembly.Memory
    asm?: { memory?: WebAssembly.Memory }
  }
  dataIdMap: { get(id: DataId): { memoryOffset: number } }
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo
  disposeData(id: DataId): boolean
}

export const wasmBackend = (): WasmBackendLike => tf.backend() as unknown as WasmBackendLike

/**
 * A Float32Array over a tensor's bytes in wasm memory. Read it after every allocation of the kernel
 * (an allocation can grow the memory, which replaces the buffer of a non-shared memory).
 */
export function heapF32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer
  return new Float32Array(buffer, pointer(backend, t.dataId), tf.util.sizeFromShape(t.shape))
}

/** A tensor's byte offset in wasm memory (where Synthfold's SIMD kernels take their pointers). */
export const pointer = (backend: WasmBackendLike, dataId: DataId): number =>
  backend.dataIdMap.get(dataId).memoryOffset

/** A tensor (tracked by the engine, so tidy disposes it) around a kernel output. */
export function asTensor<R extends tf.Rank>(info: TensorInfo): tf.Tensor<R> {
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>
}

/** A tensor on a kernel input's data; it holds its own reference, released when disposed. */
export function view<R extends tf.Rank>(info: TensorInfo): tf.Tensor<R> {
  tf.engine().backend.incRef(info.dataId)
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>
}

/** Hands a computed tensor's data to the engine as a kernel output, without a copy. */
export function output(t: tf.Tensor): TensorInfo {
  const info: TensorInfo = { dataId: t.dataId, shape: t.shape, dtype: t.dtype }
  tf.engine().backend.incRef(t.dataId)
  t.dispose()
  return info
}

/** What a kernel function receives. */
export type KernelArgs = { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: unknown }

/** Wraps the wasm backend's kernel `name` (if it has one): `make` gets the original to fall back on. */
export function replaceWasmKernel(name: string, make: (original: KernelFunc) => KernelFunc): void {
  const existing = tf.getKernel(name, 'wasm')
  if (!existing) return
  tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({ ...existing, kernelFunc: make(existing.kernelFunc) })
}
