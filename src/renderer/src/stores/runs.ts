import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call, on } from '../api'
import type { EpochMetrics, RunProgress, RunSummary } from '../../../shared/runs'
import type { TrainSettings } from '../../../shared/train-settings'

/** Training runs: summaries, per-epoch metrics, live progress and preview versions, kept live by run events. */
export const useRunsStore = defineStore('runs', () => {
  const runs = ref<Record<number, RunSummary>>({})
  const epochs = ref<Record<number, EpochMetrics[]>>({})
  const progress = ref<Record<number, RunProgress>>({})
  const previewVersion = ref<Record<number, number>>({})
  let started = false

  function start(): void {
    if (started) return
    started = true
    on('run', (e) => {
      if (e.type === 'status') {
        runs.value = { ...runs.value, [e.run.id]: e.run }
        if (e.run.status !== 'running') {
          const { [e.run.id]: _done, ...rest } = progress.value
          void _done
          progress.value = rest
        }
      } else if (e.type === 'progress') {
        progress.value = { ...progress.value, [e.progress.runId]: e.progress }
      } else if (e.type === 'epoch') {
        const list = (epochs.value[e.runId] ?? []).filter((m) => m.epoch !== e.metrics.epoch)
        epochs.value = { ...epochs.value, [e.runId]: [...list, e.metrics] }
      } else if (e.type === 'preview') {
        previewVersion.value = { ...previewVersion.value, [e.runId]: e.epoch }
      }
    })
  }

  async function loadForDataset(datasetId: number): Promise<RunSummary[]> {
    const list = await call('runs.list', { datasetId })
    const next = { ...runs.value }
    for (const r of list) next[r.id] = r
    runs.value = next
    return list
  }

  async function load(runId: number): Promise<void> {
    const r = await call('runs.get', { runId })
    runs.value = { ...runs.value, [runId]: r.run }
    epochs.value = { ...epochs.value, [runId]: r.epochs }
    if (previewVersion.value[runId] === undefined)
      previewVersion.value = { ...previewVersion.value, [runId]: r.run.epochsDone }
  }

  async function startRun(
    datasetId: number,
    settings: Partial<TrainSettings>,
  ): Promise<RunSummary> {
    const run = await call('runs.start', { datasetId, settings })
    runs.value = { ...runs.value, [run.id]: run }
    epochs.value = { ...epochs.value, [run.id]: [] }
    return run
  }

  async function cancel(runId: number): Promise<void> {
    await call('runs.cancel', { runId })
  }

  async function resume(runId: number): Promise<void> {
    const run = await call('runs.resume', { runId })
    runs.value = { ...runs.value, [runId]: run }
  }

  async function remove(runId: number): Promise<void> {
    await call('runs.delete', { runId })
    const { [runId]: _gone, ...rest } = runs.value
    void _gone
    runs.value = rest
  }

  return {
    runs,
    epochs,
    progress,
    previewVersion,
    start,
    load,
    loadForDataset,
    startRun,
    cancel,
    resume,
    remove,
  }
})
