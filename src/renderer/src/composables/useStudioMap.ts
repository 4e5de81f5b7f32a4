import { onMounted, onUnmounted, ref, shallowRef } from 'vue'
import { call, on } from '../api'
import type { MapFeatures, MapMethod, MapProgress, StudioMap } from '../../../shared/studio'

/**
 * The studio page's map: asks for it (answered from the cache, or computed as a job in the ML
 * process), follows the job's progress, and cancels it. Events are unsubscribed on unmount.
 */
export function useStudioMap(runId: number) {
  const map = shallowRef<StudioMap | null>(null)
  const progress = ref<MapProgress | null>(null)
  const error = ref<string | null>(null)
  let wanted: {
    method: MapMethod
    features: MapFeatures
    generationId: number | null
  } | null = null
  let off: (() => void) | null = null

  async function fetchMap(): Promise<void> {
    if (!wanted) return
    const args = wanted
    error.value = null
    try {
      const r = await call('studio.map', { runId, ...args })
      if (args !== wanted) return
      if (r.status === 'ready') {
        map.value = r.map
        progress.value = null
      } else
        progress.value =
          progress.value?.jobId === r.jobId
            ? progress.value
            : { jobId: r.jobId, runId, phase: 'starting', done: 0, total: 1 }
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      progress.value = null
    }
  }

  function load(args: { method: MapMethod; features: MapFeatures; generationId: number | null }) {
    wanted = args
    return fetchMap()
  }

  async function cancel(): Promise<void> {
    const p = progress.value
    if (p) await call('studio.cancel', { jobId: p.jobId })
  }

  onMounted(() => {
    off = on('studio', (e) => {
      if (e.runId !== runId) return
      const mine = progress.value?.jobId === e.jobId
      if (e.type === 'progress') {
        if (mine || !progress.value) progress.value = e
      } else if (mine) {
        progress.value = null
        if (e.type === 'done') void fetchMap()
        else if (e.type === 'failed') error.value = e.error.message
      }
    })
  })
  onUnmounted(() => off?.())

  return { map, progress, error, load, cancel }
}
