import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Where a worker entry lives, given the URL of the module that starts it (`import.meta.url`). From
 * source (tests, the CLI under tsx) it is the .ts file beside that module, run with tsx's loader;
 * from the build it is the bundled .js beside the chunk (the build keeps every main-process chunk
 * in one folder and names each worker entry after its source file, see electron.vite.config.ts).
 */
export function workerFile(name: string, from: string): { file: string; execArgv?: string[] } {
  const here = fileURLToPath(from)
  if (here.endsWith('.ts'))
    return { file: join(dirname(here), `${name}.ts`), execArgv: ['--import', tsxLoader()] }
  return { file: join(dirname(here), `${name}.js`) }
}

/**
 * tsx's loader by its full URL: a bare `--import tsx` is resolved from the working directory, so
 * a CLI started from any other folder could not start its workers.
 */
function tsxLoader(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
    return pathToFileURL(join(dirname(pkg), 'dist', 'loader.mjs')).href
  } catch {
    return 'tsx'
  }
}
