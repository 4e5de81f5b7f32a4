import { afterEach, describe, expect, it, vi } from 'vitest'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { openDatabase, type Database } from '../../src/core/db/database'
import { DatasetsRepo } from '../../src/core/db/datasets-repo'
import { decodeFile, type FileOutcome } from '../../src/core/datasets/decode-file'
import { runImport, type ImportHooks } from '../../src/core/datasets/import'
import { ImportWriter } from '../../src/core/datasets/import-writer'
import { ImportsRepo } from '../../src/core/db/imports-repo'
import { PixelStore, ThumbPack } from '../../src/core/datasets/store'
import { dbFile } from '../../src/core/util/paths'
import { tmp } from './helpers/messy'

const BIN = join(import.meta.dirname, '../../bin/synthfold.js')
const hooks: ImportHooks = { progress: () => undefined, shouldStop: () => false }
const cleanup: string[] = []
afterEach(() => {
  vi.restoreAllMocks()
  for (const d of cleanup.splice(0).reverse()) {
    chmodSync(d, 0o755)
    rmSync(d, { recursive: true, force: true })
  }
})
const scratchDir = (prefix: string): string => {
  const d = tmp(prefix)
  cleanup.push(d)
  return d
}

/** `n` distinct 28x28 gray PNGs in class folder `a`. */
async function smallTree(root: string, n: number): Promise<void> {
  mkdirSync(join(root, 'a'), { recursive: true })
  const px = Buffer.alloc(28 * 28)
  for (let i = 0; i < n; i++) {
    px[i % px.length] = (i * 37) & 0xff
    const png = await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
      .png({ compressionLevel: 1 })
      .toBuffer()
    writeFileSync(join(root, 'a', `${i}.png`), png)
  }
}

describe('two writers of one dataset', () => {
  const R = 28 * 28
  const decoded = (fill: number, thumb: string): FileOutcome => ({
    kind: 'read',
    size: 1,
    mtimeMs: 1,
    sha256: null,
    decoded: {
      ok: true,
      format: 'png',
      width: 28,
      height: 28,
      pixels: new Uint8Array(R).fill(fill),
      thumb: Buffer.from(thumb),
    },
  })

  it('never put bytes in a slot another has committed, and a rolled-back batch leaves none', () => {
    const home = scratchDir('writers')
    const dir = join(home, 'datasets', '1')
    const connections = [openDatabase(dbFile(home)), openDatabase(dbFile(home))]
    const [a, b] = connections
    try {
      a.prepare(
        `INSERT INTO datasets (name, root, size, channels, fit, status, import_pid, created_at, updated_at)
         VALUES ('t', '/t', 28, 'gray', 'cover', 'importing', ?, 0, 0)`,
      ).run(process.pid)
      a.prepare(`INSERT INTO classes (dataset_id, folder, name) VALUES (1, 'c', 'c')`).run()
      const open = (db: Database) => {
        const store = new PixelStore(PixelStore.fileFor(dir, 1, 28, 1), R)
        const thumbs = new ThumbPack(ThumbPack.fileFor(dir, 1))
        return {
          store,
          thumbs,
          writer: new ImportWriter(new ImportsRepo(db), 1, store, thumbs, new Map()),
        }
      }
      const wa = open(a)
      const wb = open(b)
      // Both started from the same committed end and interleave their files.
      wa.writer.record('c/a1.png', 1, decoded(11, 'thumb of a1'))
      wb.writer.record('c/b1.png', 1, decoded(22, 'thumb of b1, longer'))
      wa.writer.record('c/a2.png', 1, decoded(33, 'thumb of a2'))
      wa.writer.flush()
      wb.writer.flush()
      // A third writer's batch fails (a1 is already there) and is rolled back.
      const wc = open(b)
      wc.writer.record('c/c1.png', 1, decoded(44, 'thumb of c1'))
      wc.writer.record('c/a1.png', 1, decoded(55, 'thumb of a1 again'))
      expect(() => wc.writer.flush()).toThrow(/UNIQUE/)
      for (const w of [wa, wb, wc]) {
        w.store.close()
        w.thumbs.close()
      }

      const rows = a
        .prepare('SELECT rel_path, slot, thumb_offset, thumb_length FROM images ORDER BY rel_path')
        .all() as { rel_path: string; slot: number; thumb_offset: number; thumb_length: number }[]
      expect(rows.map((r) => r.rel_path)).toEqual(['c/a1.png', 'c/a2.png', 'c/b1.png'])
      const want: Record<string, [number, string]> = {
        'c/a1.png': [11, 'thumb of a1'],
        'c/a2.png': [33, 'thumb of a2'],
        'c/b1.png': [22, 'thumb of b1, longer'],
      }
      const store = new PixelStore(PixelStore.fileFor(dir, 1, 28, 1), R)
      const thumbs = new ThumbPack(ThumbPack.fileFor(dir, 1))
      try {
        for (const r of rows) {
          const [fill, thumb] = want[r.rel_path]
          expect([...new Set(store.read(r.slot))], r.rel_path).toEqual([fill])
          expect(thumbs.read(r.thumb_offset, r.thumb_length).toString(), r.rel_path).toBe(thumb)
        }
      } finally {
        store.close()
        thumbs.close()
      }
    } finally {
      for (const c of connections) c.close()
    }
  })
})

/** Bytes this process has read through read(2) and friends so far (Linux). */
const bytesRead = (): number =>
  Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1])

describe.skipIf(!existsSync('/proc/self/io'))('a large file that is not an image', () => {
  it('is skipped by its first bytes, never read whole', async () => {
    const root = scratchDir('sparse')
    await smallTree(root, 3)
    // 200 MB of nothing (sparse: costs no disk) behind an image name.
    writeFileSync(join(root, 'a', 'big.png'), '')
    truncateSync(join(root, 'a', 'big.png'), 200 * 1024 ** 2)
    const geo = { size: 28, channels: 'gray', fit: 'cover' } as const

    let before = bytesRead()
    const out = await decodeFile(join(root, 'a', 'big.png'), geo, null)
    expect(bytesRead() - before).toBeLessThan(64 * 1024)
    expect(out).toMatchObject({
      kind: 'read',
      size: 200 * 1024 ** 2,
      decoded: { ok: false, reason: 'not an image: the content does not match its .png extension' },
    })

    const home = scratchDir('sparse-home')
    const db = openDatabase(dbFile(home))
    try {
      before = bytesRead()
      const summary = await runImport(db, home, { path: root, size: 28, channels: 'gray' }, hooks)
      expect(bytesRead() - before).toBeLessThan(16 * 1024 ** 2)
      expect(summary.imported).toBe(3)
      expect(summary.skipped).toEqual([
        {
          path: 'a/big.png',
          reason: 'not an image: the content does not match its .png extension',
        },
      ])
    } finally {
      db.close()
    }
  })
})

describe('a full disk during an import', () => {
  const N = 600 // two batches: the first (512) is committed before the disk fills

  async function importUntilFull(fill: (db: Database, datasetId: number) => void) {
    const root = scratchDir('full-src')
    await smallTree(root, N)
    const home = scratchDir('full-home')
    const db = openDatabase(dbFile(home))
    try {
      const req = { path: root, size: 28, channels: 'gray' } as const
      await expect(
        runImport(db, home, req, { ...hooks, onDataset: (id) => fill(db, id) }),
      ).rejects.toThrow(/disk is full/i)
      vi.restoreAllMocks()
      db.pragma('max_page_count = 1073741823')
      // What the app shows, also after it starts again (which marks imports of dead processes).
      const repo = new DatasetsRepo(db)
      repo.recoverInterrupted(() => false)
      const [ds] = repo.list()
      expect(ds.status).toBe('incomplete')
      expect(ds.lastError).toMatch(/disk is full/i)
      expect(ds.lastError).not.toMatch(/app or computer stopped/)
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      // Freeing space and importing again finishes it.
      const again = await runImport(db, home, req, hooks)
      expect(again.imported).toBe(N)
      expect(repo.get(ds.id)!.status).toBe('ready')
      return ds
    } finally {
      db.close()
    }
  }

  it('ENOSPC from the pixel store: lastError says the disk is full, the first batch is kept', async () => {
    const write = PixelStore.prototype.writeMany
    let calls = 0
    const ds = await importUntilFull(() =>
      vi.spyOn(PixelStore.prototype, 'writeMany').mockImplementation(function (
        this: PixelStore,
        ...args: Parameters<PixelStore['writeMany']>
      ) {
        if (++calls > 1)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
            errno: -28,
            syscall: 'write',
          })
        write.apply(this, args)
      }),
    )
    expect(ds.imageCount).toBe(512)
  })

  it('SQLITE_FULL from the database: lastError says the disk is full', async () => {
    await importUntilFull((db) => {
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
    })
  })
})

describe('a data folder Synthfold cannot write', () => {
  const root = process.getuid?.() === 0
  // Permissions do not stop root: the CLI runs as another user there.
  const other = root ? { uid: 65534, gid: 65534 } : {}
  const cli = (home: string, args: string[], as: { uid?: number; gid?: number } = {}) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, SYNTHFOLD_HOME: home },
      encoding: 'utf8',
      timeout: 60_000,
      ...as,
    })
  const expectCannotOpen = (r: ReturnType<typeof cli>, reason: RegExp) => {
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(reason)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(JSON.parse(r.stdout.trim()).error.code).toBe('io')
  }
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

  it('inside a regular file (ENOTDIR): says which path is a file', () => {
    const dir = scratchDir('notdir')
    writeFileSync(join(dir, 'file'), 'x')
    const home = join(dir, 'file', 'home')
    const r = cli(home, ['datasets', '--json'])
    expectCannotOpen(
      r,
      new RegExp(
        `Cannot open the database ${escape(join(home, 'synthfold.db'))}: ${escape(join(dir, 'file'))} is a file, not a folder \\(ENOTDIR\\)`,
      ),
    )
  })

  it('where the database is a folder: says so instead of "unable to open database file"', () => {
    const home = scratchDir('dbdir')
    mkdirSync(join(home, 'synthfold.db'))
    const r = cli(home, ['datasets', '--json'])
    expectCannotOpen(
      r,
      new RegExp(
        `Cannot open the database ${escape(join(home, 'synthfold.db'))}: it is a folder, not a file`,
      ),
    )
  })

  it.skipIf(process.platform === 'win32')(
    'read-only, new or with a database in it: says which folder is not writable (EACCES)',
    () => {
      const parent = scratchDir('readonly')
      chmodSync(parent, 0o755)
      const empty = join(parent, 'empty')
      mkdirSync(empty)
      const used = join(parent, 'used')
      expect(cli(used, ['datasets']).status).toBe(0)
      for (const home of [empty, used]) {
        chmodSync(home, 0o555)
        cleanup.push(home)
        const r = cli(home, ['datasets', '--json'], other)
        expectCannotOpen(
          r,
          new RegExp(
            `Cannot open the database ${escape(join(home, 'synthfold.db'))}: the folder ${escape(home)} is not writable \\(EACCES\\)`,
          ),
        )
      }
    },
  )
})
