import { afterEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { trainOnFullDisk, type TrainDiskFullReport } from './fixtures/train-disk-full'
import { tmp } from './helpers/messy'

/** The `unshare` flags that let this machine mount a tmpfs in a private namespace, or null. */
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

function checkReport(r: TrainDiskFullReport): void {
  expect(r.status).toBe('failed')
  expect(r.error).toMatch(/^Disk full: .*keeps the checkpoints it had.*resume/)
  // the best checkpoint from before the disk filled is still recorded and whole on disk
  const best = r.checkpoints.find((c) => c.kind === 'best')
  expect(best, JSON.stringify(r.checkpoints)).toBeDefined()
  expect(r.checkpoints.every((c) => c.complete)).toBe(true)
  expect(r.temp).toEqual([])
  expect(r.serving).toBe(true)
}

describe('training on a full disk', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
  const flags = namespaceFlags()

  it.runIf(flags)(
    'fails the run with "disk full" on a real full file system (tmpfs)',
    () => {
      const home = tmp('train-full')
      dirs.push(home)
      const child = join(import.meta.dirname, 'fixtures', 'train-disk-full.ts')
      const res = spawnSync(
        'unshare',
        [
          ...flags!,
          'sh',
          '-c',
          'mount -t tmpfs -o size=48m synthfold-full "$1" && exec "$2" --import tsx "$3" "$1"',
          'sh',
          home,
          process.execPath,
          child,
        ],
        { encoding: 'utf8', timeout: 240_000 },
      )
      expect(res.status, res.stderr).toBe(0)
      checkReport(JSON.parse(res.stdout) as TrainDiskFullReport)
    },
    240_000,
  )

  it.skipIf(flags)(
    'fails the run with "disk full" on an injected one',
    async () => {
      const home = tmp('train-full')
      dirs.push(home)
      process.env.SYNTHFOLD_FAULT = 'disk-full@2'
      try {
        checkReport(await trainOnFullDisk(home, false))
      } finally {
        delete process.env.SYNTHFOLD_FAULT
      }
    },
    240_000,
  )
})
