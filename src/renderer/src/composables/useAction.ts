import { ref, type Ref } from 'vue'

export interface Action {
  /** True while `run` is running (buttons disable themselves on it). */
  busy: Ref<boolean>
  /** The last failure's message, shown in the panel; cleared when `run` starts again. */
  error: Ref<string | null>
  /**
   * Runs a user's action: busy while it runs, its failure's message in `error` (or what `onError`
   * makes of it; null shows nothing). Resolves to the action's result, or undefined when it failed.
   */
  run<T>(fn: () => Promise<T>, onError?: (message: string) => string | null): Promise<T | undefined>
  /** Shows a failure of background work (a load) the same way. */
  fail(err: unknown): void
}

/** The busy flag and error message of a panel's buttons, one pattern for every panel. */
export function useAction(): Action {
  const busy = ref(false)
  const error = ref<string | null>(null)
  const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))
  return {
    busy,
    error,
    async run(fn, onError) {
      error.value = null
      busy.value = true
      try {
        return await fn()
      } catch (err) {
        error.value = onError ? onError(message(err)) : message(err)
        return undefined
      } finally {
        busy.value = false
      }
    },
    fail: (err) => {
      error.value = message(err)
    },
  }
}
