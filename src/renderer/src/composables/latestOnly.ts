/**
 * Runs an async task after `delay` ms of quiet, never two at once: calls made while one runs
 * coalesce into one more run when it ends, so a slider dragged fast decodes its latest position
 * and never queues a backlog of stale ones.
 */
export function latestOnly(task: () => Promise<void>, delay: number) {
  let timer: ReturnType<typeof setTimeout> | null = null
  let running = false
  let again = false
  let stopped = false
  const fire = async (): Promise<void> => {
    timer = null
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = true
    try {
      await task()
    } finally {
      running = false
      if (again && !stopped) {
        again = false
        void fire()
      }
    }
  }
  const trigger = (): void => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void fire(), delay)
  }
  trigger.cancel = (): void => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
  return trigger
}
