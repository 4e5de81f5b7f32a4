#!/usr/bin/env node
// Launcher for the synthfold CLI. better-sqlite3 13 needs Node 22 or newer, so an older `node` on
// the PATH hands over to the Node 22 that the project installs (the `node` devDependency).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const args = process.argv.slice(2)

function run(node, nodeArgs) {
  const r = spawnSync(node, [...nodeArgs, ...args], { stdio: 'inherit' })
  if (r.error) {
    console.error(`synthfold: could not start ${node}: ${r.error.message}`)
    process.exit(1)
  }
  process.exit(r.status ?? 1)
}

let node = process.execPath
if (Number(process.versions.node.split('.')[0]) < 22) {
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
let tsx = null
try {
  tsx = require.resolve('tsx')
} catch {
  tsx = null
}
if (existsSync(source) && tsx) run(node, ['--import', 'tsx', source])
const built = join(root, 'out', 'main', 'cli.js')
if (existsSync(built)) run(node, [built])
console.error('synthfold: neither the sources with tsx nor a build (npm run build) were found.')
process.exit(1)
