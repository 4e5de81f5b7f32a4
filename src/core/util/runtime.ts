/*
 * The two things the trainers need from their host that differ between Node (the ML process) and a
 * browser renderer (the GPU trainer): environment variables and a way to let queued events in.
 * Nothing here imports node: modules, so the trainers stay browser-safe (eslint.config.js).
 */

type Host = {
  process?: { env?: Record<string, string | undefined> }
  setImmediate?: (callback: () => void) => unknown
}

/** An environment variable under Node; undefined in a browser, which has none. */
export function envVar(name: string): string | undefined {
  return (globalThis as Host).process?.env?.[name]
}

let channel: MessageChannel | null = null
const waiting: (() => void)[] = []

/**
 * Resolves after the events already queued have run (a cancel message): setImmediate under Node, a
 * MessageChannel task in a browser (setTimeout would be clamped to 4 ms after a few nested calls).
 */
export function yieldToEvents(): Promise<void> {
  const immediate = (globalThis as Host).setImmediate
  if (immediate) return new Promise((resolve) => void immediate(resolve))
  if (!channel) {
    channel = new MessageChannel()
    channel.port1.onmessage = () => waiting.shift()?.()
  }
  const port = channel.port2
  return new Promise((resolve) => {
    waiting.push(resolve)
    port.postMessage(null)
  })
}
