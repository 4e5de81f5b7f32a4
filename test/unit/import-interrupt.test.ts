import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fork } from 'node:child_process'
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import sharp from 'sharp'
import { Core } from '../../src/core/core'
import { PixelStore } from '../../src/core/datasets/store'
import { datasetDir } from '../../src/core/util/paths'
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
})
