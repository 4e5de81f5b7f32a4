import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { Core } from '../../src/core/core'
import { decodeImage } from '../../src/core/datasets/decode'
import { PixelStore, ThumbPack } from '../../src/core/datasets/store'
import { datasetDir } from '../../src/core/util/paths'
import { importAndWait } from './helpers/core'
import { tmp } from './helpers/messy'

const N = 1200

/**
 * Enough JPEGs for the decoder threads, larger than the training size so each goes through sharp
 * and gets a thumbnail: the path where a thread has several batches queued, reads files into one
 * reused buffer and hands sharp's output back.
 */
async function buildJpegTree(root: string): Promise<void> {
  for (let c = 0; c < 3; c++) mkdirSync(join(root, `class${c}`), { recursive: true })
  const raw = Buffer.alloc(40 * 40 * 3)
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < raw.length; k++) raw[k] = (k * (i + 7) + i * 31) & 0xff
    const jpg = await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } })
      .jpeg({ quality: 80 })
      .toBuffer()
    writeFileSync(join(root, `class${i % 3}`, `img${i}.jpg`), jpg)
  }
}

describe('a large import of images that need libvips (decoder threads)', () => {
  let root: string
  const home = tmp('pool')
  beforeAll(async () => {
    root = tmp('jpegs')
    await buildJpegTree(root)
  })
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(home, { recursive: true, force: true })
  })

  it('stores every image exactly as decoding it alone gives, with its thumbnail', async () => {
    const core = new Core({ home, shell: 'cli' })
    try {
      const { event, summary } = await importAndWait(core, {
        path: root,
        size: 28,
        channels: 'rgb',
      })
      expect(event.type, JSON.stringify(event)).toBe('done')
      expect(summary!.imported).toBe(N)
      expect(summary!.skipped).toEqual([])
      const rows = core.db
        .prepare(
          'SELECT rel_path, slot, thumb_offset, thumb_length FROM images WHERE dataset_id = ?',
        )
        .all(summary!.datasetId) as {
        rel_path: string
        slot: number
        thumb_offset: number | null
        thumb_length: number | null
      }[]
      expect(rows).toHaveLength(N)
      const dir = datasetDir(home, summary!.datasetId)
      const store = new PixelStore(PixelStore.fileFor(dir, 1, 28, 3), 28 * 28 * 3)
      const thumbs = new ThumbPack(ThumbPack.fileFor(dir, 1))
      const geo = { size: 28, channels: 'rgb' as const, fit: 'cover' as const }
      try {
        for (const r of rows.filter((_, i) => i % 37 === 0)) {
          const alone = await decodeImage(readFileSync(join(root, r.rel_path)), '.jpg', geo)
          if (!alone.ok) throw new Error(alone.reason)
          expect(
            Buffer.from(store.read(r.slot)).equals(Buffer.from(alone.pixels)),
            r.rel_path,
          ).toBe(true)
          expect(r.thumb_length, r.rel_path).toBeGreaterThan(0)
          const meta = await sharp(thumbs.read(r.thumb_offset!, r.thumb_length!)).metadata()
          expect(meta.format).toBe('webp')
        }
      } finally {
        store.close()
        thumbs.close()
      }
    } finally {
      await core.close()
    }
  }, 120_000)
})
