import { type Core } from '../../../src/core/core'
import type { ImportSummary, JobEvent } from '../../../src/shared/types'
import type { MethodArgs } from '../../../src/shared/contract'

export async function ok<T>(
  p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>,
): Promise<T> {
  const r = await p
  if (!r.ok) throw new Error(r.error.message)
  return r.value
}

/** Starts an import through the contract and waits for its final event. */
export async function importAndWait(
  core: Core,
  args: MethodArgs<'datasets.import'>,
  onProgress?: (e: Extract<JobEvent, { type: 'progress' }>, jobId: string) => void,
): Promise<{ event: JobEvent; summary: ImportSummary | null; progress: JobEvent[] }> {
  const progress: JobEvent[] = []
  let jobId = ''
  const finished = new Promise<JobEvent>((resolve) => {
    const off = core.on('job', (e) => {
      if (e.type === 'progress') {
        progress.push(e)
        onProgress?.(e, jobId)
        return
      }
      off()
      resolve(e)
    })
  })
  jobId = (await ok(core.call('datasets.import', args))).jobId
  const event = await finished
  return {
    event,
    summary: event.type === 'done' || event.type === 'cancelled' ? event.result : null,
    progress,
  }
}

/** Starts a training run through the contract and waits until its process has ended. */
export async function trainAndWait(
  core: Core,
  datasetId: number,
  settings: MethodArgs<'runs.start'>['settings'],
): Promise<number> {
  let runId = 0
  const ended = new Promise<void>((resolve) => {
    const off = core.on('run', (e) => {
      if (e.type === 'status' && e.run.id === runId && e.run.status !== 'running') {
        off()
        resolve()
      }
    })
  })
  runId = (await ok(core.call('runs.start', { datasetId, settings }))).id
  await ended
  return runId
}
