/** The web host itself (`npm run serve`), started by index.ts once the Node version is checked. */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { Core } from '../core/core'
import { startWebHost } from './server'

const args = process.argv.slice(2)
const portArg = args.indexOf('--port')
const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.SYNTHFOLD_PORT ?? 0)
const here = dirname(fileURLToPath(import.meta.url))
const rendererDir = [
  join(here, '../renderer'),
  join(here, '../../out/renderer'),
  join(here, '../../../out/renderer'),
].find((d) => existsSync(join(d, 'index.html')))
if (!rendererDir) {
  console.error(
    'The renderer is not built. Run `npm run build` first (npm run serve does it for you).',
  )
  process.exit(1)
}
const core = new Core({ shell: 'web' })
const host = await startWebHost({
  core,
  rendererDir,
  port,
  token: process.env.SYNTHFOLD_TOKEN || undefined,
})
console.log(`Synthfold web host (data: ${core.home})`)
console.log(`Open: ${host.loginUrl}`)

let closing = false
const shutdown = async (): Promise<void> => {
  if (closing) return
  closing = true
  await host.close()
  await core.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
