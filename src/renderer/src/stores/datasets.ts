import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call } from '../api'
import type { MethodArgs } from '../../../shared/contract'
import type { AppInfo, DatasetSummary } from '../../../shared/types'
import { useJobsStore } from './jobs'

/** The dataset library: summaries of every dataset, refreshed when an import ends. */
export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([])
  const info = ref<AppInfo | null>(null)
  const loaded = ref(false)
  const error = ref<string | null>(null)

  async function load(): Promise<void> {
    try {
      ;[list.value, info.value] = await Promise.all([
        call('datasets.list', {}),
        info.value ?? call('app.info', {}),
      ])
      error.value = null
    } catch (err) {
      error.value = (err as Error).message
    } finally {
      loaded.value = true
    }
  }

  async function importFolder(args: MethodArgs<'datasets.import'>): Promise<string> {
    const { jobId } = await call('datasets.import', args)
    return jobId
  }

  async function importSample(): Promise<string> {
    const { jobId } = await call('datasets.importSample', {})
    return jobId
  }

  async function rename(id: number, name: string): Promise<void> {
    const updated = await call('datasets.rename', { id, name })
    list.value = list.value.map((d) => (d.id === id ? updated : d))
  }

  /** A dataset's summary as a call returned it (a relabel changes its class counts). */
  function replace(summary: DatasetSummary): void {
    list.value = list.value.some((d) => d.id === summary.id)
      ? list.value.map((d) => (d.id === summary.id ? summary : d))
      : [...list.value, summary]
  }

  async function remove(id: number): Promise<void> {
    await call('datasets.delete', { id })
    list.value = list.value.filter((d) => d.id !== id)
  }

  const jobs = useJobsStore()
  jobs.onEvent((e) => {
    const unknown =
      e.type === 'progress' &&
      e.progress.datasetId !== null &&
      !list.value.some((d) => d.id === e.progress.datasetId)
    if (e.type !== 'progress' || unknown) void load()
  })

  return { list, info, loaded, error, load, importFolder, importSample, rename, replace, remove }
})
