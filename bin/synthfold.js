#!/usr/bin/env node
// Launcher for the synthfold CLI. better-sqlite3 13 needs Node 22 or newer: on such a Node the CLI
// runs in this very process (so a kill of this process is a kill of the CLI, and the training
// processes it started end with it); an older `node` on the PATH hands over to the Node 22 that
// the project installs (the `node` devDependency), in a child that ends when this process does.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const args = process.argv.slice(2)

// The CLI runs in a child process; signals sent to this launcher (kill, a parent's Ctrl-C) are
// passed on, so Ctrl-C cancels a job the same way whether or not a terminal sent it to both (the
// CLI treats the same interrupt arriving twice within a second as one). The IPC channel is the
// parent-death watch: a SIGKILL of this launcher closes it, and the CLI then ends (src/cli/index.ts).
function run(node, nodeArgs) {
  const child = spawn(node, [...nodeArgs, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    })
  child.on('error', (err) => {
    console.error(`synthfold: could not start ${node}: ${err.message}`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
    } else process.exit(code ?? 1)
  })
}

const modern = Number(process.versions.node.split('.')[0]) >= 22
let node = process.execPath
if (!modern) {
  const local = join(root, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(local)) {
    console.error(
      `synthfold needs Node.js 22 or newer (this is ${process.version}). Run npm ci, or install Node 22.`,
    )
    process.exit(1)
  }
  node = local
}

const source = join(root, 'src', 'cli', 'index.ts')
// tsx's loader by its full URL: a bare `--import tsx` is resolved from the working directory, so
// the CLI would not start from any folder but the project's.
let tsx = null
try {
  tsx = import.meta.resolve('tsx')
} catch {
  try {
    tsx = pathToFileURL(require.resolve('tsx')).href
  } catch {
    tsx = null
  }
}
const built = join(root, 'out', 'main', 'cli.js')
if (existsSync(source) && tsx) {
  if (modern) {
    const { register } = await import('tsx/esm/api')
    register()
    await import(pathToFileURL(source).href)
  } else run(node, ['--import', tsx, source])
} else if (existsSync(built)) {
  if (modern) await import(pathToFileURL(built).href)
  else run(node, [built])
} else {
  console.error('synthfold: neither the sources with tsx nor a build (npm run build) were found.')
  process.exit(1)
}
