import { createHash } from 'node:crypto'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

/**
 * tfjs 4.22 turns wasm threads off under Node (tensorflow/tfjs#3830) for two reasons, both worked
 * around here for the time the backend initialises:
 *
 * 1. Emscripten starts each pthread as a worker from a Blob URL (the worker script) and hands it
 *    the module factory as a Blob; Node's worker_threads can load neither. While enabled, string
 *    Blobs are remembered and `URL.createObjectURL` of the worker script writes it to a file
 *    instead, with the factory beside it as a file the worker imports.
 * 2. The C++ side caps its thread pool at half of `emscripten_num_logical_cores()` (it assumes two
 *    hardware threads per core), which under Node is `os.cpus().length`: on a 2-core machine that is
 *    one thread. While enabled, `os.cpus()` reports twice the wanted thread count.
 *
 * `enable` must run just before `tf.setBackend('wasm')`; call the returned `restore` once the
 * backend is ready (or failed). The two files live in a folder named by their content's hash under
 * the system's temporary folder, shared by this user's processes: private to the user, written
 * atomically, and compared with what they must contain before every use (a file someone else put
 * there is replaced, never run). `.cjs`, so a package.json above the temporary folder cannot turn
 * them into ES modules.
 */
export function enableWasmThreadsForNode(
  backendBundle: string,
  threads: number,
): { restore: () => void; folder: () => string; error: () => string | null } {
  // The factory's source refers to the bundle's top-level `require$$N` bindings (fs, path, os…).
  const header = (
    readFileSync(backendBundle, 'utf8').match(/^var require\$\$\w+ = require\('[\w:]+'\);$/gm) ?? []
  ).join('\n')
  let folder = ''
  let error: string | null = null

  const OriginalBlob = globalThis.Blob
  const originalCreate = URL.createObjectURL.bind(URL)
  const originalCpus = os.cpus
  const texts = new WeakMap<Blob, string>()
  let factory: string | null = null

  class TextBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options)
      if (!parts?.every((p) => typeof p === 'string')) return
      const text = (parts as string[]).join('')
      if (text.startsWith('var WasmBackendModuleThreadedSimd')) factory = text
      else texts.set(this, text)
    }
  }

  globalThis.Blob = TextBlob as typeof Blob
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob)
    if (text === undefined || !text.includes('WasmBackendModuleThreadedSimd(Module)'))
      return originalCreate(blob)
    if (factory === null) throw new Error('wasm threads: the module factory was not seen')
    const loadFactory =
      /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/
    if (!loadFactory.test(text)) throw new Error('wasm threads: unexpected worker script')
    const moduleText = `${header}\nvar commonjsGlobal = globalThis;\n${factory}\n`
    const hash = createHash('sha256').update(moduleText).update(text).digest('hex').slice(0, 16)
    try {
      folder = privateFolder(`synthfold-wasm-${hash}`)
      const moduleFile = join(folder, 'module.cjs')
      const workerFile = join(folder, 'worker.cjs')
      ensureFile(moduleFile, moduleText)
      ensureFile(
        workerFile,
        text.replace(loadFactory, `importScripts(${JSON.stringify(moduleFile)});`),
      )
      return workerFile
    } catch (err) {
      error = `its worker files could not be written (${err instanceof Error ? err.message : String(err)})`
      throw err
    }
  }
  const cpus = originalCpus()
  os.cpus = () => Array.from({ length: threads * 2 }, (_, i) => cpus[i % cpus.length])

  return {
    folder: () => folder,
    error: () => error,
    restore: () => {
      globalThis.Blob = OriginalBlob
      URL.createObjectURL = originalCreate
      os.cpus = originalCpus
    },
  }
}

/**
 * The shared folder under the system's temporary folder when it is a real folder of this user's
 * (created private), else a fresh private one for this process (removed when it exits).
 */
function privateFolder(name: string): string {
  const shared = join(os.tmpdir(), name)
  mkdirSync(shared, { recursive: true, mode: 0o700 })
  const st = lstatSync(shared)
  const uid = process.getuid?.()
  if (st.isDirectory() && !st.isSymbolicLink() && (uid === undefined || st.uid === uid))
    return shared
  const own = mkdtempSync(join(os.tmpdir(), `${name}-`))
  process.once('exit', () => rmSync(own, { recursive: true, force: true }))
  return own
}

/** Makes `file` hold exactly `text`: kept when it already does, else written through a temporary name. */
function ensureFile(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  writeFileSync(tmp, text, { mode: 0o600 })
  renameSync(tmp, file)
}

/** Threads to ask for: SYNTHFOLD_WASM_THREADS if set, else one per core the process may use, 1 to 8. */
export function wantedWasmThreads(): number {
  const asked = Number(process.env.SYNTHFOLD_WASM_THREADS)
  const n = Number.isFinite(asked) && asked >= 1 ? asked : os.availableParallelism()
  return Math.max(1, Math.min(8, Math.floor(n)))
}
