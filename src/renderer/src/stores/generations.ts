import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call, on } from '../api'
import type { MethodArgs } from '../../../shared/contract'
import type { GenerationProgress, GenerationSummary } from '../../../shared/generation'

/**
 * Generations: summaries, live progress, and a version per generation that moves whenever its
 * samples or decisions change (views refetch what they show when it does).
 */
export const useGenerationsStore = defineStore('generations', () => {
  const generations = ref<Record<number, GenerationSummary>>({})
  const progress = ref<Record<number, GenerationProgress>>({})
  const version = ref<Record<number, number>>({})
  let started = false
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

  function bump(id: number): void {
    version.value = { ...version.value, [id]: (version.value[id] ?? 0) + 1 }
  }

  /** Counts are refetched at most a few times a second while samples stream in. */
  function refreshSoon(id: number): void {
    if (timers.has(id)) return
    timers.set(
      id,
      setTimeout(() => {
        timers.delete(id)
        void load(id).catch(() => undefined)
      }, 400),
    )
  }

  function start(): void {
    if (started) return
    started = true
    on('generation', (e) => {
      if (e.type === 'status') {
        generations.value = { ...generations.value, [e.generation.id]: e.generation }
        if (e.generation.status !== 'running') {
          const { [e.generation.id]: _gone, ...rest } = progress.value
          void _gone
          progress.value = rest
        }
        bump(e.generation.id)
      } else if (e.type === 'progress') {
        progress.value = { ...progress.value, [e.progress.generationId]: e.progress }
      } else if (e.type === 'samples') {
        bump(e.generationId)
        refreshSoon(e.generationId)
      } else if (e.type === 'decided') {
        refreshSoon(e.generationId)
      }
    })
  }

  async function load(id: number): Promise<GenerationSummary> {
    const g = await call('generations.get', { generationId: id })
    generations.value = { ...generations.value, [id]: g }
    return g
  }

  async function listForRun(runId: number): Promise<GenerationSummary[]> {
    const list = await call('generations.list', { runId })
    const next = { ...generations.value }
    for (const g of list) next[g.id] = g
    generations.value = next
    return list
  }

  async function cancel(id: number): Promise<void> {
    await call('generations.cancel', { generationId: id })
  }

  async function refill(id: number, className?: string): Promise<void> {
    const g = await call('generations.refill', { generationId: id, className })
    generations.value = { ...generations.value, [id]: g }
  }

  /** Starts a generation (a remedy's, say) and keeps its summary; its events do the rest. */
  async function startGeneration(
    args: MethodArgs<'generations.start'>,
  ): Promise<GenerationSummary> {
    const g = await call('generations.start', args)
    generations.value = { ...generations.value, [g.id]: g }
    return g
  }

  async function remove(id: number): Promise<void> {
    await call('generations.delete', { generationId: id })
    const { [id]: _gone, ...rest } = generations.value
    void _gone
    generations.value = rest
  }

  return {
    generations,
    progress,
    version,
    start,
    load,
    listForRun,
    cancel,
    refill,
    startGeneration,
    remove,
  }
})
