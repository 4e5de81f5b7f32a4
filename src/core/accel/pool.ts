import { Worker } from 'node:worker_threads'
import type { WasmBackendLike } from './heap'
import { simdKernels, simdModule, type SimdKernels } from './simd-module'

/**
 * Threads of Synthfold's own for its SIMD kernels: the pool and its job protocol. The jobs that
 * run on it (convolutions, transposed convolutions, filter gradients) are in conv-jobs.ts. tfjs runs XNNPACK's convolutions on its thread
 * pool, but XNNPACK packs a filter afresh whenever it is a new tensor (in training, every call),
 * filter gradients ran as convolutions after transposing both operands, and everything Synthfold
 * computed itself ran on one thread.
 *
 * Here convolutions, transposed convolutions and filter gradients are jobs shared by the caller's
 * thread and `threads - 1` workers (node:worker_threads, each with the SIMD module instantiated on
 * tfjs's shared memory). A job is split into slots (a band of output rows of one image; for a
 * transposed convolution one phase of one image; for a filter gradient a run of such bands), and
 * a thread claims a slot at a time by compare-and-swap in wasm (simd/*.wat, `work`). A worker
 * sleeps in Atomics.wait between jobs, so it takes no CPU from tfjs's own pool; one that wakes late
 * (its core busy) simply takes fewer slots. No two slots write the same output, except the filter
 * gradient's, which sum into partial results of their own, added in slot order afterwards: the
 * result is the same whichever thread did what, and on any number of threads, so a seed still
 * reproduces a run. Without a shared memory (tfjs on one thread) the caller does every slot alone.
 */

/**
 * Control block: i32 words; 0-1 and 4.. are described in simd/*.wat (`work`), 2 counts jobs, 3
 * is how long workers spin before they sleep.
 */
const CTL_BYTES = 128
const DONE = 1
const SEQ = 2
const SPIN = 3
/** How long the caller waits for a worker's slot before giving up on the job. */
let workerTimeoutMs = 30_000

/** Sets that wait (tests: a worker that misses it must not harm what runs afterwards). */
export function setWorkerTimeout(ms: number): void {
  workerTimeoutMs = ms
}

export interface MallocBackend extends WasmBackendLike {
  wasm: WasmBackendLike['wasm'] & { _malloc(bytes: number): number; _free(ptr: number): void }
}

export interface Pool {
  kernels: SimdKernels
  memory: WebAssembly.Memory
  ctl: number
  /** A view of the memory: renewed when an unshared memory grows (its old buffer detaches). */
  i32: Int32Array
  workers: Worker[]
  /** Threads the buffers are laid out for: the caller and every worker started. */
  threads: number
  job: number
  /** A worker missed the timeout: the pool is not used again. */
  broken: boolean
}

const pools = new WeakMap<SimdKernels, Pool>()
let wantedThreads = 1

/** How many threads (the caller's included) may share a job; set from tfjs's own pool size. */
export function setSimdThreads(threads: number): void {
  wantedThreads = Math.max(1, Math.floor(threads))
}

/** The workers of the pool on this backend's memory (0 where it runs on the caller alone). */
export function simdWorkerCount(backend: WasmBackendLike): number {
  return pool(backend)?.workers.length ?? 0
}

// Plain JavaScript, run with `eval`: no file to ship or resolve beside the bundle.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, ctl, thread } = workerData
const k = new WebAssembly.Instance(module, { env: { memory } }).exports
const i32 = new Int32Array(memory.buffer)
const seq = (ctl >> 2) + ${SEQ}
const spinWord = (ctl >> 2) + ${SPIN}
let seen = 0
// sleeps until a job is published (after checking as many times as the last job said); unref'd,
// it ends with the process
for (;;) {
  const spin = Atomics.load(i32, spinWord)
  for (let i = 0; i < spin && Atomics.load(i32, seq) === seen; i++);
  Atomics.wait(i32, seq, seen)
  seen = Atomics.load(i32, seq)
  k.work(ctl, thread)
}
`

/**
 * How many times a worker checks for the next job before it sleeps, and the caller for the last
 * slot before it waits (SYNTHFOLD_POOL_SPIN, default 0: straight to Atomics.wait). Each job
 * carries it to the workers (control word 3). Measured in bench/HISTORY.md (2026-12-04).
 */
let spin = Math.max(0, Math.floor(Number(process.env.SYNTHFOLD_POOL_SPIN) || 0))

/** Sets that count (bench/train/ab.ts compares counts in one process). */
export function setPoolSpin(checks: number): void {
  spin = Math.max(0, Math.floor(checks))
}

/** The pool on this backend's memory, started on first use; null without the SIMD module. */
export function pool(backend: WasmBackendLike): Pool | null {
  const kernels = simdKernels(backend)
  const shared = simdModule(backend)
  if (!kernels || !shared) return null
  // One pool per build of the module (setRelaxedSimdEnabled switches builds): each has its own
  // workers and control block, so no worker runs a slot of a job of the other build.
  const known = pools.get(kernels)
  if (known) return known.broken ? null : known
  const b = backend as MallocBackend
  const ctl = b.wasm._malloc(CTL_BYTES) >>> 0
  if (!ctl) return null
  const i32 = new Int32Array(shared.memory.buffer)
  i32.fill(0, ctl >> 2, (ctl + CTL_BYTES) >> 2)
  const p: Pool = {
    kernels,
    memory: shared.memory,
    ctl,
    i32,
    workers: [],
    threads: 1,
    job: 0,
    broken: false,
  }
  const isShared =
    typeof SharedArrayBuffer !== 'undefined' && shared.memory.buffer instanceof SharedArrayBuffer
  if (isShared)
    for (let thread = 1; thread < wantedThreads; thread++) {
      try {
        const w = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module: shared.module, memory: shared.memory, ctl, thread },
        })
        w.unref() // never keeps the process alive
        // A worker that fails leaves the pool: later jobs run on the threads left.
        w.on('error', () => (p.workers = p.workers.filter((x) => x !== w)))
        p.workers.push(w)
      } catch {
        break
      }
    }
  p.threads = 1 + p.workers.length
  pools.set(kernels, p)
  return p
}

/**
 * Runs a job of `slots` slots on every thread of the pool: its kind and parameters go to the
 * control block (simd/*.wat, `work`), the caller works too, then waits for the slots workers
 * claimed.
 */
export function runJob(p: Pool, kind: number, params: number[], slots: number): void {
  if (p.i32.buffer !== p.memory.buffer) p.i32 = new Int32Array(p.memory.buffer)
  const i32 = p.i32
  const w = p.ctl >> 2
  p.job = (p.job + 1) & 0xffff
  // Closed first (next slot 0xffff: no job has that many), so that a worker still looking at the
  // last job cannot claim a slot while the parameters are half written.
  Atomics.store(i32, w, (p.job << 16) | 0xffff)
  i32[w + SPIN] = spin
  i32[w + 4] = slots
  i32[w + 5] = kind
  i32.set(params, w + 6)
  Atomics.store(i32, w + DONE, 0)
  // Publishing the job (slot 0 next) makes the parameters visible with it.
  Atomics.store(i32, w, p.job << 16)
  if (p.workers.length > 0) {
    Atomics.add(i32, w + SEQ, 1)
    Atomics.notify(i32, w + SEQ)
  }
  p.kernels.work(p.ctl, 0)
  for (let i = 0; i < spin && Atomics.load(i32, w + DONE) < slots; i++);
  for (;;) {
    const done = Atomics.load(i32, w + DONE)
    if (done >= slots) return
    if (
      Atomics.wait(i32, w + DONE, done, workerTimeoutMs) === 'timed-out' &&
      Atomics.load(i32, w + DONE) === done
    ) {
      // The worker may still write into this job's buffers: the pool is not used again (the
      // fallback kernels take over) and the callers leave the buffers allocated.
      p.broken = true
      throw new Error(
        `a Synthfold SIMD worker did not finish its part of a job in ${workerTimeoutMs / 1000} s`,
      )
    }
  }
}

/** malloc's result as an unsigned byte offset (above 2 GiB it comes back negative); 0 fails. */
export function malloc(p: Pool, b: MallocBackend, bytes: number, what: string): number {
  const at = b.wasm._malloc(bytes) >>> 0
  if (!at) throw new Error(`${what}: out of wasm memory`)
  return at
}

/** The pool on this backend, for a job named `what` (its callers check pooled* first). */
export function poolFor(backend: WasmBackendLike, what: string): { p: Pool; b: MallocBackend } {
  const p = pool(backend)
  if (!p) throw new Error(`${what}: the SIMD kernels are not available`)
  return { p, b: backend as MallocBackend }
}

/** Runs `use` with `bytes` of wasm memory, released afterwards (see `release`). */
export function withMemory<T>(
  p: Pool,
  b: MallocBackend,
  bytes: number,
  what: string,
  use: (at: number) => T,
): T {
  const at = malloc(p, b, bytes, what)
  try {
    return use(at)
  } finally {
    release(p, b, at)
  }
}

/** Frees a job's buffers, unless a worker that timed out may still use them. */
export function release(p: Pool, b: MallocBackend, at: number): void {
  if (!p.broken) b.wasm._free(at)
}

/**
 * Memory for what a caller prepares for a job (subpixel.ts: the phase table and kernels),
 * with `free` that keeps it allocated if a worker timed out on the job.
 */
export function jobMemory(
  backend: WasmBackendLike,
  bytes: number,
  what: string,
): { at: number; free: () => void } {
  const { p, b } = poolFor(backend, what)
  const at = malloc(p, b, bytes, what)
  return { at, free: () => release(p, b, at) }
}
