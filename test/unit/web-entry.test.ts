import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tmp } from './helpers/messy'

/**
 * `node out/main/web.js` under a Node older than 22.12 (Debian's /usr/bin/node is 20) used to die
 * with SIGSEGV and no word: better-sqlite3 loaded under the wrong ABI. The built entry checks the
 * version before it loads anything else, and says what to do.
 */
const ROOT = join(import.meta.dirname, '../..')
const BUILT = join(ROOT, 'out/main/web.js')
const SYSTEM_NODE = '/usr/bin/node'

function skipReason(): string | null {
  if (!existsSync(SYSTEM_NODE)) return `no ${SYSTEM_NODE} here`
  const v = spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' })
  const [major, minor] = v.stdout.trim().split('.').map(Number)
  if (!(major < 22 || (major === 22 && minor < 12)))
    return `${SYSTEM_NODE} is ${v.stdout.trim()}, new enough`
  if (!existsSync(BUILT)) return 'out/main/web.js is not built (npm run build)'
  if (statSync(BUILT).mtimeMs < statSync(join(ROOT, 'src/web/index.ts')).mtimeMs)
    return 'out/main/web.js is older than src/web/index.ts (npm run build)'
  return null
}
const reason = skipReason()

describe('the web host entry', () => {
  it.skipIf(reason !== null)(
    `refuses an old Node with a message instead of crashing${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      const home = tmp('web-entry')
      const r = spawnSync(SYSTEM_NODE, [BUILT], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, SYNTHFOLD_HOME: home },
      })
      const touched = readdirSync(home)
      rmSync(home, { recursive: true, force: true })
      expect(r.signal).toBeNull()
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/needs Node\.js 22\.12 or newer; this is v\d+/)
      expect(r.stderr).toMatch(/npm run serve/)
      expect(touched).toEqual([]) // nothing was opened
    },
  )
})
