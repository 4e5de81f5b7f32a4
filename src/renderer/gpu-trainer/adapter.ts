/// <reference types="@webgpu/types" />
import type { GpuAdapterReport } from '../../shared/gpu'

/** The limits that bound a training run: buffer sizes, bindings, workgroups. */
const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
] as const

const none = (reason: string): GpuAdapterReport => ({
  available: false,
  reason,
  vendor: '',
  architecture: '',
  device: '',
  description: '',
  isFallbackAdapter: false,
  features: [],
  limits: {},
})

/** Asks the browser for a WebGPU adapter (as tfjs-backend-webgpu will) and describes it. */
export async function adapterReport(): Promise<GpuAdapterReport> {
  if (!('gpu' in navigator) || !navigator.gpu) return none('this browser has no navigator.gpu')
  let adapter: GPUAdapter | null
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' })
  } catch (err) {
    return none(`requestAdapter failed: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!adapter) return none('navigator.gpu.requestAdapter() returned no adapter')
  // Newer Chromium has adapter.info (with isFallbackAdapter); older ones requestAdapterInfo() and
  // isFallbackAdapter on the adapter. The types in node_modules are of the older ones.
  const a = adapter as GPUAdapter & {
    info?: GPUAdapterInfo & { isFallbackAdapter?: boolean }
    isFallbackAdapter?: boolean
    requestAdapterInfo?: () => Promise<GPUAdapterInfo>
  }
  const info = a.info ?? (await a.requestAdapterInfo?.()) ?? ({} as GPUAdapterInfo)
  const legacy = a.isFallbackAdapter
  const limits: Record<string, number> = {}
  for (const k of KEY_LIMITS) limits[k] = Number(adapter.limits[k])
  return {
    available: true,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(a.info?.isFallbackAdapter ?? legacy),
    features: [...adapter.features].sort(),
    limits,
  }
}
