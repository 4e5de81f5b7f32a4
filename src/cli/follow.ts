import type { Core } from '../core/core'
import type { EventPayloads } from '../shared/contract'
import type { EventName } from '../shared/names'

/**
 * Ctrl-C for a long command: the first interrupt asks the job to stop (it keeps what it made); a
 * repeat within a second is the same keypress arriving twice (from the terminal and through the
 * launcher in bin/synthfold.js) and is ignored; a later one quits at once. Returns the undo.
 */
export function onInterrupt(cancel: () => void): () => void {
  let first = 0
  const handler = (): void => {
    const now = Date.now()
    if (!first) {
      first = now
      cancel()
    } else if (now - first > 1000) {
      process.stderr.write('\nStopped without waiting.\n')
      process.exit(130)
    }
  }
  process.on('SIGINT', handler)
  return () => {
    process.off('SIGINT', handler)
    // The copy of an interrupt that ended the job may still be on its way: let it pass.
    if (!first) return
    const ignore = (): void => undefined
    process.on('SIGINT', ignore)
    setTimeout(
      () => process.off('SIGINT', ignore),
      Math.max(0, 1000 - (Date.now() - first)),
    ).unref()
  }
}

export interface FollowOptions<K extends EventName, S extends { id: number }> {
  core: Core
  channel: K
  /** Starts the job (called once the CLI listens, so no event is missed). */
  start: () => Promise<S>
  /** The job's final summary when an event says it has ended, else null. */
  ended: (event: EventPayloads[K], first: S) => S | null
  /** Everything else the command shows of an event (progress bar, epoch lines). */
  show?: (event: EventPayloads[K], first: S) => void
  /** What Ctrl-C does, and what it says. */
  interrupt: (first: S) => { message: string; cancel: () => Promise<unknown> }
  /** True when the job was already over when it started (an export with nothing left to do). */
  alreadyOver?: (first: S) => boolean
  /** Whether a progress line is drawn on stderr (cleared at the end). */
  tty: boolean
  /** Called with the started job, before waiting. */
  started?: (first: S) => void
}

/** Starts a job through the contract, shows its events, and resolves to its final summary. */
export async function followJob<K extends EventName, S extends { id: number }>(
  o: FollowOptions<K, S>,
): Promise<S> {
  const buffered: EventPayloads[K][] = []
  let onEvent: ((e: EventPayloads[K]) => void) | null = null
  const off = o.core.on(o.channel, (e) => (onEvent ? onEvent(e) : buffered.push(e)))
  let undo = (): void => undefined
  try {
    const first = await o.start()
    // Ctrl-C is caught before anything says the job started: a script (or a test) that interrupts
    // as soon as it reads that line must not find the default action (death) still in place
    const { message, cancel } = o.interrupt(first)
    undo = onInterrupt(() => {
      process.stderr.write(`\n${message}\n`)
      void cancel()
    })
    o.started?.(first)
    return await new Promise<S>((resolve) => {
      onEvent = (e) => {
        const final = o.ended(e, first)
        if (final) resolve(final)
        else o.show?.(e, first)
      }
      buffered.splice(0).forEach((e) => onEvent!(e))
      if (o.alreadyOver?.(first)) resolve(first)
    })
  } finally {
    off()
    undo()
    if (o.tty) process.stderr.write('\r\x1b[2K')
  }
}
