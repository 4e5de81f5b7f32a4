import { describe, expect, it } from 'vitest'
import { JobSupervisor, type JobRows } from '../../../src/core/jobs/job-supervisor'
import type { SpawnWorker, WorkerProcess } from '../../../src/core/jobs/worker-process'
import type { FromTrainer, TrainJob } from '../../../src/shared/ml-protocol'

/** A worker process played by the test: it records what it was sent and ends when told. */
class FakeProcess implements WorkerProcess {
  readonly pid = 4242
  exited = false
  readonly sent: unknown[] = []
  private readonly listeners: ((m: unknown) => void)[] = []
  private readonly exits: ((code: number | null, signal: string | null) => void)[] = []
  private readonly stderr: ((t: string) => void)[] = []
  send(m: unknown): void {
    this.sent.push(m)
  }
  onMessage(l: (m: unknown) => void): void {
    this.listeners.push(l)
  }
  onExit(l: (code: number | null, signal: string | null) => void): void {
    this.exits.push(l)
  }
  onStderr(l: (t: string) => void): void {
    this.stderr.push(l)
  }
  kill(): void {
    this.exit(null, 'SIGKILL')
  }
  say(m: FromTrainer): void {
    for (const l of this.listeners) l(m)
  }
  writeErr(t: string): void {
    for (const l of this.stderr) l(t)
  }
  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) return
    this.exited = true
    for (const l of this.exits) l(code, signal)
  }
}

function setup() {
  const procs: FakeProcess[] = []
  const spawn: SpawnWorker = () => {
    const p = new FakeProcess()
    procs.push(p)
    return p
  }
  const log: string[] = []
  const rows = new Set<number>()
  const hooks: JobRows<{ method: string }> = {
    noun: 'audit',
    exists: (id) => rows.has(id),
    markRunning: (id, pid) => log.push(`running ${id} ${pid}`),
    emitStatus: (id) => log.push(`status ${id}`),
    onMessage: (id, _live, m) => {
      if (m.type === 'audit-done') return { status: m.outcome, method: m.method }
      log.push(`message ${id} ${m.type}`)
      return undefined
    },
    completed: (id, o, s) => log.push(`completed ${id} ${o.method} ${s >= 0}`),
    cancelled: (id) => log.push(`cancelled ${id}`),
    failed: (id, error) => log.push(`failed ${id} ${error}`),
  }
  const sup = new JobSupervisor(hooks, spawn)
  const job = { mode: 'audit' } as unknown as TrainJob
  return { sup, procs, log, rows, job }
}

describe('JobSupervisor', () => {
  it('starts the job, routes messages, and records the outcome its done message gave', async () => {
    const { sup, procs, log, rows, job } = setup()
    rows.add(1)
    sup.launch(1, 10, job)
    expect(procs[0].sent[0]).toEqual({ type: 'start', job })
    expect(sup.isBusy(10)).toBe(true)
    expect(sup.isBusy(11)).toBe(false)
    procs[0].say({ type: 'audit-started', classNames: ['a'] } as FromTrainer)
    procs[0].say({ type: 'audit-done', outcome: 'completed', method: 'elbo' } as FromTrainer)
    // done but not yet exited: no longer busy, so its subject may go
    expect(sup.isBusy(10)).toBe(false)
    procs[0].exit(0)
    await sup.shutdown()
    expect(log).toEqual([
      'running 1 4242',
      'status 1',
      'message 1 audit-started',
      'completed 1 elbo true',
      'status 1',
    ])
  })

  it('a process that dies without its done message fails with its error or its last output', () => {
    const { sup, procs, log, rows, job } = setup()
    rows.add(1).add(2)
    sup.launch(1, 10, job)
    procs[0].writeErr('line one\nSegmentation fault\n')
    procs[0].exit(139)
    sup.launch(2, 20, job)
    procs[1].say({
      type: 'error',
      error: { name: 'Error', message: 'disk full' },
      diverged: false,
    } as FromTrainer)
    procs[1].exit(1)
    expect(log.filter((l) => l.startsWith('failed'))).toEqual([
      'failed 1 The audit process stopped unexpectedly (exit code 139). Last output: line one\nSegmentation fault',
      'failed 2 disk full',
    ])
  })

  it('cancel asks the process to stop; an exit after a cancel is a cancel, not a failure', async () => {
    const { sup, procs, log, rows, job } = setup()
    rows.add(1)
    expect(sup.cancel(1)).toBe(false) // nothing live under that id
    sup.launch(1, 10, job)
    expect(sup.cancel(1)).toBe(true)
    expect(procs[0].sent[1]).toEqual({ type: 'cancel' })
    procs[0].exit(null, 'SIGTERM')
    await sup.shutdown()
    expect(log).toContain('cancelled 1')
    expect(log.some((l) => l.startsWith('failed'))).toBe(false)
  })

  it('a job whose row was deleted is told to stop at its next message', () => {
    const { sup, procs, log, rows, job } = setup()
    rows.add(1)
    sup.launch(1, 10, job)
    rows.delete(1)
    procs[0].say({ type: 'audit-started', classNames: ['a'] } as FromTrainer)
    expect(procs[0].sent).toContainEqual({ type: 'cancel' })
    expect(log).not.toContain('message 1 audit-started')
  })

  it('shutdown cancels every live job and waits for each to end', async () => {
    const { sup, procs, log, rows, job } = setup()
    rows.add(1).add(2)
    sup.launch(1, 10, job)
    sup.launch(2, 20, job)
    const done = sup.shutdown()
    for (const p of procs) {
      expect(p.sent).toContainEqual({ type: 'cancel' })
      p.exit(0)
    }
    await done
    expect(log.filter((l) => l.startsWith('cancelled'))).toEqual(['cancelled 1', 'cancelled 2'])
  })
})
