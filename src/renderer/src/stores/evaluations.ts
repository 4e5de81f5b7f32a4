import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call, on } from '../api'
import type { EvaluationProgress, EvaluationSummary } from '../../../shared/evaluation'

/**
 * Downstream checks: each generation's newest evaluation and the live progress of running ones,
 * kept current by evaluation events.
 */
export const useEvaluationsStore = defineStore('evaluations', () => {
  const evaluations = ref<Record<number, EvaluationSummary>>({})
  /** Generation id -> the id of its newest evaluation. */
  const latest = ref<Record<number, number>>({})
  const progress = ref<Record<number, EvaluationProgress>>({})
  let started = false

  function put(e: EvaluationSummary): void {
    // a reply read before the check ended must not bring back "running" over its end
    const known = evaluations.value[e.id]
    if (known && known.status !== 'running' && e.status === 'running') return
    evaluations.value = { ...evaluations.value, [e.id]: e }
    if ((latest.value[e.generationId] ?? 0) <= e.id)
      latest.value = { ...latest.value, [e.generationId]: e.id }
    if (e.status !== 'running') {
      const { [e.id]: _gone, ...rest } = progress.value
      void _gone
      progress.value = rest
    }
  }

  function start(): void {
    if (started) return
    started = true
    on('evaluation', (e) => {
      if (e.type === 'status') put(e.evaluation)
      else {
        // a late progress event must not bring back the bar of a check that has ended
        const known = evaluations.value[e.progress.evaluationId]
        if (!known || known.status === 'running')
          progress.value = { ...progress.value, [e.progress.evaluationId]: e.progress }
      }
    })
  }

  /** Loads a generation's newest evaluation (none yet: nothing shown). */
  async function loadLatest(generationId: number): Promise<void> {
    const list = await call('evaluations.list', { generationId })
    for (const e of [...list].reverse()) put(e)
  }

  async function evaluate(generationId: number, seeds: number): Promise<EvaluationSummary> {
    const e = await call('evaluations.start', { generationId, seeds })
    put(e)
    return e
  }

  async function cancel(evaluationId: number): Promise<void> {
    await call('evaluations.cancel', { evaluationId })
  }

  return { evaluations, latest, progress, start, loadLatest, evaluate, cancel }
})
