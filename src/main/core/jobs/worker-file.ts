import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where a worker entry lives. From source (tests, the CLI under tsx) it is the .ts file run with
 * tsx's loader; from the build it is the bundled .js beside this module (the build keeps every
 * main-process chunk in one folder, see electron.vite.config.ts).
 */
export function workerFile(name: string): { file: string; execArgv?: string[] } {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts'))
    return { file: join(dirname(here), `${name}.ts`), execArgv: ['--import', 'tsx'] }
  return { file: join(dirname(here), `${name}.js`) }
}
