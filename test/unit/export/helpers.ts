import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'

export const tmp = (prefix: string): string =>
  mkdtempSync(join(tmpdir(), `synthfold-export-${prefix}-`))

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/**
 * Every regular file under `root` as relative path (forward slashes) → SHA-256, plus every
 * directory as `path/` → '', so two trees compare equal only with the same folders too.
 */
export function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name)
      const rel = relative(root, abs).split(sep).join('/')
      if (e.isDirectory()) {
        out[`${rel}/`] = ''
        walk(abs)
      } else out[rel] = sha256(readFileSync(abs))
    }
  }
  walk(root)
  return out
}

const PYTHON = '/usr/bin/python3'

/**
 * Runs a Python script from fixtures/ and parses its JSON output. Fails with what to do when the
 * interpreter or PIL is missing, rather than skipping: these tests are the proof that real
 * consumers read the export.
 */
export function python(script: string, args: string[]): unknown {
  const probe = spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${PYTHON} with PIL is needed to check the export with real readers; ` +
        'run `bash scripts/install.sh` (it installs python3-pil).',
    )
  }
  const res = spawnSync(PYTHON, [join(import.meta.dirname, 'fixtures', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  if (res.status !== 0) throw new Error(`${script} failed (${res.status}):\n${res.stderr}`)
  return JSON.parse(res.stdout)
}
