import { afterEach, describe, expect, it, vi } from 'vitest'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import type * as Fsp from 'node:fs/promises'
import { join } from 'node:path'
import { FULL_N, FULL_SIZE, runFullDisk, type FullDiskReport } from './fixtures/disk-full'
import { expectedTree, writeSources } from './fixtures/job'
import { sha256, tmp } from './helpers'

/**
 * Fallback only, for machines where a tmpfs cannot be mounted: every FileHandle.write fails with
 * ENOSPC once `budget.left` bytes are used. Off (infinite) unless a test sets it.
 */
const budget = vi.hoisted(() => ({ left: Infinity }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof Fsp>()
  const open = (async (...args: Parameters<typeof fsp.open>) => {
    const fh = await fsp.open(...args)
    const write = fh.write.bind(fh) as (...a: unknown[]) => Promise<unknown>
    fh.write = (async (data: Uint8Array, offset?: number, length?: number) => {
      const n = length ?? data.length
      if (n > budget.left) {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      }
      budget.left -= n
      return write(data, offset, length)
    }) as typeof fh.write
    return fh
  }) as typeof fsp.open
  return { ...fsp, open, default: { ...fsp, open } }
})

/**
 * The real thing where the kernel allows it: a 256 KiB tmpfs mounted in a private mount
 * namespace (a user namespace makes that work without root; as root in a container a mount
 * namespace alone may do). Returns the `unshare` flags that work here, or null.
 */
function namespaceFlags(): string[] | null {
  if (process.env.SYNTHFOLD_TEST_FAKE_FULL_DISK) return null
  for (const flags of [['--user', '--map-root-user', '--mount'], ['--mount']]) {
    const dir = tmp('probe')
    const probe = spawnSync(
      'unshare',
      [...flags, 'sh', '-c', 'mount -t tmpfs -o size=64k synthfold-probe "$1"', 'sh', dir],
      { stdio: 'ignore' },
    )
    rmSync(dir, { recursive: true, force: true })
    if (probe.status === 0) return flags
  }
  return null
}

function checkReport(r: FullDiskReport): void {
  expect(r.code, r.message ?? '').toBe('disk_full')
  const expected = expectedTree(FULL_N, FULL_SIZE)
  let complete = 0
  for (const [path, hash] of Object.entries(r.after)) {
    if (path.endsWith('/') || path.endsWith('.synthfold-export.json')) continue
    // no temporary file survives a failed write, and every file under a final name is whole
    const rel = path.replace(/^export\//, '')
    expect(expected.has(rel), path).toBe(true)
    expect(hash, path).toBe(sha256(expected.get(rel)!))
    complete++
  }
  expect(complete).toBeGreaterThan(0)
  expect(complete).toBeLessThan(FULL_N)
  expect(r.after['export/metadata.csv']).toBeUndefined()
  expect(r.message).toMatch(/^The disk is full: could not write .*img\d+\.bin\./)
  expect(r.message).toContain(`${complete} of ${FULL_N} files were written`)
  expect(r.message).toMatch(/can be resumed or cleaned up/)
  expect(r.afterCleanup).toEqual({})
}

describe('a full disk', () => {
  const dirs: string[] = []
  afterEach(() => {
    budget.left = Infinity
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const flags = namespaceFlags()

  it.runIf(flags)('fails cleanly on a real full file system (tmpfs of 256 KiB)', () => {
    const src = tmp('full-src')
    const mnt = tmp('full-mnt')
    dirs.push(src, mnt)
    writeSources(src, FULL_N, FULL_SIZE)
    const child = join(import.meta.dirname, 'fixtures', 'disk-full-child.ts')
    const res = spawnSync(
      'unshare',
      [
        ...flags!,
        'sh',
        '-c',
        'mount -t tmpfs -o size=256k synthfold-full "$1" && exec "$2" --import tsx "$3" "$1" "$4"',
        'sh',
        mnt,
        process.execPath,
        child,
        src,
      ],
      { encoding: 'utf8' },
    )
    expect(res.status, res.stderr).toBe(0)
    checkReport(JSON.parse(res.stdout) as FullDiskReport)
  })

  it.skipIf(flags)('fails cleanly on an injected full disk (no mount namespace here)', async () => {
    const src = tmp('full-src')
    const dir = tmp('full-out')
    dirs.push(src, dir)
    writeSources(src, FULL_N, FULL_SIZE)
    budget.left = 10 * FULL_SIZE + 5000
    checkReport(await runFullDisk(dir, src))
  })
})
