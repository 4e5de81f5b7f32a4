import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call, on } from '../api'
import type { ExportProgressInfo, ExportSummary } from '../../../shared/export'

/** Exports: summaries and live progress, kept current by export events. */
export const useExportsStore = defineStore('exports', () => {
  const exports = ref<Record<number, ExportSummary>>({})
  const progress = ref<Record<number, ExportProgressInfo>>({})
  let started = false

  function start(): void {
    if (started) return
    started = true
    on('export', (e) => {
      if (e.type === 'status') {
        exports.value = { ...exports.value, [e.export.id]: e.export }
        if (e.export.status !== 'running') {
          const { [e.export.id]: _gone, ...rest } = progress.value
          void _gone
          progress.value = rest
        }
      } else progress.value = { ...progress.value, [e.progress.exportId]: e.progress }
    })
  }

  async function load(id: number): Promise<ExportSummary> {
    const e = await call('exports.get', { exportId: id })
    exports.value = { ...exports.value, [id]: e }
    return e
  }

  async function listForDataset(datasetId: number): Promise<void> {
    const list = await call('exports.list', { datasetId })
    const next = { ...exports.value }
    for (const e of list) next[e.id] = e
    exports.value = next
  }

  return { exports, progress, start, load, listForDataset }
})
