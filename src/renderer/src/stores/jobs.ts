import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { call, on } from '../api'
import type { ImportSummary, JobEvent, JobProgress } from '../../../shared/types'

export interface JobOutcome {
  jobId: string
  status: 'done' | 'cancelled' | 'failed'
  label: string
  summary: ImportSummary | null
  error: string | null
}

/** Running jobs and the outcome of the last ones, kept current by job events. */
export const useJobsStore = defineStore('jobs', () => {
  const running = ref<Record<string, JobProgress>>({})
  const outcomes = ref<JobOutcome[]>([])
  const listeners = new Set<(e: JobEvent) => void>()
  let started = false

  const active = computed(() =>
    Object.values(running.value).sort((a, b) => a.startedAt - b.startedAt),
  )

  function handle(e: JobEvent): void {
    if (e.type === 'progress') {
      running.value = { ...running.value, [e.progress.jobId]: e.progress }
    } else {
      const label = running.value[e.jobId]?.label ?? 'Import'
      const { [e.jobId]: _gone, ...rest } = running.value
      void _gone
      running.value = rest
      const outcome: JobOutcome = {
        jobId: e.jobId,
        status: e.type,
        label,
        summary: e.type === 'failed' ? null : e.result,
        error: e.type === 'failed' ? e.error.message : null,
      }
      outcomes.value = [outcome, ...outcomes.value.filter((o) => o.jobId !== e.jobId)].slice(0, 5)
    }
    listeners.forEach((l) => l(e))
  }

  async function start(): Promise<void> {
    if (started) return
    started = true
    on('job', handle)
    for (const p of await call('jobs.list', {})) running.value = { ...running.value, [p.jobId]: p }
  }

  async function cancel(jobId: string): Promise<void> {
    await call('jobs.cancel', { jobId })
  }

  function dismiss(jobId: string): void {
    outcomes.value = outcomes.value.filter((o) => o.jobId !== jobId)
  }

  function onEvent(listener: (e: JobEvent) => void): () => void {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  return { running, outcomes, active, start, cancel, dismiss, onEvent }
})
