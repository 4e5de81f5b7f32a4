import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import sharp from 'sharp'
import { Core } from '../../src/core/core'
import { PixelStore } from '../../src/core/datasets/store'
import { datasetDir, dbFile } from '../../src/core/util/paths'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const N = 2400

/** Many small, distinct images, so an import takes long enough to stop in the middle. */
async function buildBigTree(root: string): Promise<void> {
  for (let c = 0; c < 3; c++) mkdirSync(join(root, `class${c}`), { recursive: true })
  const base = Buffer.alloc(32 * 32)
  for (let i = 0; i < N; i++) {
    base[i % base.length] = i & 0xff
    base[(i * 7) % base.length] = (i >> 3) & 0xff
    const png = await sharp(base, { raw: { width: 32, height: 32, channels: 1 } })
      .toColourspace('b-w')
      .png({ compressionLevel: 1 })
      .toBuffer()
    writeFileSync(join(root, `class${i % 3}`, `img${i}.png`), png)
  }
}

/** The CLI in a process of its own, as a second app window or a script would run it. */
function cliImport(home: string, root: string): ChildProcess {
  return fork(join(import.meta.dirname, '../../src/cli/index.ts'), ['import', root, '--json'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SYNTHFOLD_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
}

function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })))
}

/**
 * Starts two imports of `root` at the same moment: the test holds the database's write lock while
 * both processes start, so both read the dataset (or find no database yet) before either writes,
 * then lets them go.
 */
async function importTwiceAtOnce(home: string, root: string) {
  const gate = new BetterSqlite3(dbFile(home))
  gate.prepare('BEGIN IMMEDIATE').run()
  const children = [cliImport(home, root), cliImport(home, root)]
  const results = children.map(finished)
  await new Promise((r) => setTimeout(r, 4000))
  gate.prepare('COMMIT').run()
  gate.close()
  return Promise.all(results)
}

/** Every stored image holds its own file's pixels (32x32 gray, as the tree is made). */
async function expectPixelsMatchFiles(home: string, root: string, datasetId: number) {
  const db = new BetterSqlite3(dbFile(home), { readonly: true })
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    const ds = db.prepare('SELECT * FROM datasets WHERE id = ?').get(datasetId) as {
      status: string
      store_generation: number
    }
    expect(ds.status).toBe('ready')
    const rows = db
      .prepare(`SELECT rel_path, slot FROM images WHERE dataset_id = ? AND status = 'ok'`)
      .all(datasetId) as { rel_path: string; slot: number }[]
    expect(rows).toHaveLength(N)
    const store = new PixelStore(
      PixelStore.fileFor(datasetDir(home, datasetId), ds.store_generation, 32, 1),
      32 * 32,
    )
    const wrong: string[] = []
    try {
      for (const r of rows) {
        const want = await sharp(join(root, r.rel_path)).toColourspace('b-w').raw().toBuffer()
        if (!Buffer.from(store.read(r.slot)).equals(want)) wrong.push(r.rel_path)
      }
    } finally {
      store.close()
    }
    expect(
      wrong.length,
      `images holding another file's pixels: ${wrong.slice(0, 5).join(', ')}`,
    ).toBe(0)
  } finally {
    db.close()
  }
}

const BUSY = /this dataset is being imported by another window or process/i

describe('stopping an import part way', () => {
  let root: string
  beforeAll(async () => {
    root = tmp('big')
    await buildBigTree(root)
    // Each batch of 128 takes 40 ms longer on its decoder thread: the import lasts about 0.5 s on
    // any machine, and the decoders cannot run ahead of a cancel.
    process.env.SYNTHFOLD_FAULT = 'slow-import@40'
  })
  afterAll(() => {
    delete process.env.SYNTHFOLD_FAULT
    rmSync(root, { recursive: true, force: true })
  })

  it('cancel keeps what was imported, marks the dataset incomplete, and a re-import finishes it', async () => {
    const home = tmp('cancel')
    const core = new Core({ home, shell: 'cli' })
    try {
      let cancelled = false
      const { event, summary } = await importAndWait(core, { path: root, size: 32 }, (e, jobId) => {
        if (!cancelled && e.progress.phase === 'decoding' && e.progress.done > 0) {
          cancelled = true
          void core.call('jobs.cancel', { jobId })
        }
      })
      expect(event.type).toBe('cancelled')
      expect(summary!.cancelled).toBe(true)
      expect(summary!.imported).toBeGreaterThan(0)
      expect(summary!.imported).toBeLessThan(N)
      const ds = await ok(core.call('datasets.get', { id: summary!.datasetId }))
      expect(ds.status).toBe('incomplete')
      expect(ds.lastError).toMatch(/cancelled/)
      const again = await importAndWait(core, { path: root })
      expect(again.summary!.imported).toBe(N)
      expect(again.summary!.added).toBe(N - summary!.imported)
      expect((await ok(core.call('datasets.get', { id: summary!.datasetId }))).status).toBe('ready')
      // Every record (decoded on the decoder threads, in two imports) holds its own file's pixels.
      const rows = core.db
        .prepare('SELECT rel_path, slot FROM images WHERE dataset_id = ? AND status = ?')
        .all(summary!.datasetId, 'ok') as { rel_path: string; slot: number }[]
      expect(rows).toHaveLength(N)
      expect(new Set(rows.map((r) => r.slot)).size).toBe(N)
      const store = new PixelStore(
        PixelStore.fileFor(datasetDir(home, summary!.datasetId), 1, 32, 1),
        32 * 32,
      )
      try {
        for (const r of rows.filter((_, i) => i % 97 === 0)) {
          const want = await sharp(join(root, r.rel_path)).toColourspace('b-w').raw().toBuffer()
          expect(Buffer.from(store.read(r.slot)).equals(want), r.rel_path).toBe(true)
        }
      } finally {
        store.close()
      }
    } finally {
      await core.close()
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('a killed import (SIGKILL) leaves a consistent database that the next start marks interrupted', async () => {
    const home = tmp('kill')
    try {
      const child = fork(
        join(import.meta.dirname, '../../src/cli/index.ts'),
        ['import', root, '--size', '32'],
        {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, SYNTHFOLD_HOME: home },
          stdio: 'ignore',
        },
      )
      const dbPath = join(home, 'synthfold.db')
      // Kill it as soon as some images are committed.
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 50))
        try {
          const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true })
          const n = (
            db.prepare(`SELECT COUNT(*) AS n FROM images WHERE status = 'ok'`).get() as {
              n: number
            }
          ).n
          db.close()
          if (n > 0) break
        } catch {
          // not created yet
        }
      }
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))

      const core = new Core({ home, shell: 'cli' })
      try {
        const [ds] = await ok(core.call('datasets.list', {}))
        expect(ds.status).toBe('incomplete')
        expect(ds.lastError).toMatch(/interrupted/)
        expect(ds.imageCount).toBeGreaterThan(0)
        expect(ds.imageCount).toBeLessThan(N)
        // every committed row points at a pixel record that exists on disk
        const row = core.repo.row(ds.id)!
        const maxSlot = (
          core.db.prepare(`SELECT MAX(slot) AS m FROM images WHERE dataset_id = ?`).get(ds.id) as {
            m: number
          }
        ).m
        expect(maxSlot).toBeLessThan(row.next_slot)
        const store = statSync(join(home, 'datasets', String(ds.id), `pixels-g1-32x32x1.u8`))
        expect(store.size).toBeGreaterThanOrEqual(row.next_slot * 32 * 32)
        expect(core.db.pragma('integrity_check', { simple: true })).toBe('ok')
        const again = await importAndWait(core, { path: root })
        expect(again.summary!.imported).toBe(N)
        expect(
          new Set(core.db.prepare(`SELECT slot FROM images WHERE status = 'ok'`).pluck().all())
            .size,
        ).toBe(N)
      } finally {
        await core.close()
      }
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('two processes continuing the same incomplete import at once: one imports, the other is refused', async () => {
    const home = tmp('race')
    try {
      const core = new Core({ home, shell: 'cli' })
      let datasetId = 0
      try {
        let cancelled = false
        const { summary } = await importAndWait(core, { path: root, size: 32 }, (e, jobId) => {
          if (!cancelled && e.progress.phase === 'decoding' && e.progress.done > 0) {
            cancelled = true
            void core.call('jobs.cancel', { jobId })
          }
        })
        expect(summary!.cancelled).toBe(true)
        datasetId = summary!.datasetId
      } finally {
        await core.close()
      }
      const results = await importTwiceAtOnce(home, root)
      const codes = results.map((r) => r.code).sort()
      expect(codes, results.map((r) => r.err).join('\n')).toEqual([0, 1])
      const loser = results.find((r) => r.code === 1)!
      expect(loser.err).toMatch(BUSY)
      expect(JSON.parse(loser.out.trim()).error.code).toBe('conflict')
      const winner = JSON.parse(
        results
          .find((r) => r.code === 0)!
          .out.trim()
          .split('\n')
          .pop()!,
      )
      expect(winner).toMatchObject({ datasetId, imported: N, cancelled: false })
      await expectPixelsMatchFiles(home, root, datasetId)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('two fresh imports of the same folder (and database) at once: the second is refused with a clear message', async () => {
    const home = tmp('race-new')
    try {
      const results = await importTwiceAtOnce(home, root)
      expect(results.map((r) => r.code).sort(), results.map((r) => r.err).join('\n')).toEqual([
        0, 1,
      ])
      const loser = results.find((r) => r.code === 1)!
      expect(loser.err).toMatch(BUSY)
      expect(loser.err).not.toMatch(/UNIQUE/)
      const winner = JSON.parse(
        results
          .find((r) => r.code === 0)!
          .out.trim()
          .split('\n')
          .pop()!,
      )
      expect(winner.imported).toBe(N)
      await expectPixelsMatchFiles(home, root, winner.datasetId)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
