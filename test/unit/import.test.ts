import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { Core } from '../../src/core/core'
import { channelCount } from '../../src/shared/types'
import { PixelStore } from '../../src/core/datasets/store'
import { datasetDir } from '../../src/core/util/paths'
import { buildMessyTree, tmp } from './helpers/messy'
import { importAndWait, ok } from './helpers/core'

function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isSymbolicLink()) out.push(`${p} -> link`)
      else if (e.isDirectory()) walk(p)
      else {
        const st = statSync(p)
        out.push(`${p} ${st.size} ${st.mtimeMs}`)
      }
    }
  }
  walk(dir)
  return out.sort()
}

describe('importing a messy labeled folder', () => {
  let root: string
  let home: string
  let core: Core
  let expected: Awaited<ReturnType<typeof buildMessyTree>>

  beforeAll(async () => {
    root = tmp('messy')
    home = tmp('home')
    expected = await buildMessyTree(root)
    core = new Core({ home, shell: 'cli' })
  })
  afterAll(async () => {
    await core?.close()
    rmSync(root, { recursive: true, force: true })
    rmSync(home, { recursive: true, force: true })
  })

  function pixelsOf(datasetId: number, relPath: string): Uint8Array {
    const ds = core.repo.row(datasetId)!
    const img = core.db
      .prepare('SELECT slot FROM images WHERE dataset_id = ? AND rel_path = ?')
      .get(datasetId, relPath) as { slot: number }
    const c = channelCount(ds.channels)
    const store = new PixelStore(
      PixelStore.fileFor(datasetDir(home, datasetId), ds.store_generation, ds.size, c),
      ds.size * ds.size * c,
    )
    try {
      return store.read(img.slot)
    } finally {
      store.close()
    }
  }

  it('imports every usable image, skips each broken file with its reason, and leaves the source untouched', async () => {
    const before = snapshot(root)
    const { event, summary, progress } = await importAndWait(core, { path: root, name: 'Messy' })
    expect(event.type).toBe('done')
    expect(snapshot(root)).toEqual(before)
    const s = summary!
    expect(Object.fromEntries(s.classes.map((c) => [c.name, c.count]))).toEqual(expected.imported)
    expect(s.imported).toBe(16)
    expect(s.added).toBe(16)
    expect(s.ignored).toBe(2) // notes.txt and labels.csv
    expect(s.skipped.map((f) => f.path).sort()).toEqual(Object.keys(expected.skipped).sort())
    for (const f of s.skipped) expect(f.reason).toMatch(expected.skipped[f.path])
    // colour images present: the dataset is RGB; the default size comes from the images
    expect(s.channels).toBe('rgb')
    expect(s.size).toBe(40)
    // progress events carried totals and rates
    const decoding = progress.filter(
      (e) => e.type === 'progress' && e.progress.phase === 'decoding',
    )
    expect(decoding.length).toBeGreaterThan(0)
  })

  it('normalises colour modes and applies EXIF orientation', async () => {
    const ds = (await ok(core.call('datasets.list', {})))[0]
    const px = (rel: string) => pixelsOf(ds.id, rel)
    const at = (p: Uint8Array, x: number, y: number) =>
      Array.from(p.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3))
    expect(at(px('cat/red.png'), 20, 20)).toEqual([255, 0, 0])
    expect(at(px('cat/bmp24.bmp'), 5, 5)).toEqual([250, 10, 10])
    const cmyk = at(px('cat/cmyk.jpg'), 20, 20)
    // CMYK without a profile goes through libvips' default profile: cyan stays clearly cyan
    expect(cmyk[1] - cmyk[0]).toBeGreaterThan(30)
    expect(cmyk[2] - cmyk[0]).toBeGreaterThan(30)
    // half-transparent gray is flattened onto white
    expect(at(px('cat/graya.png'), 20, 20)[0]).toBeGreaterThan(150)
    // the 16-bit TIFF keeps its mid gray
    expect(at(px('cat/tiff16.tif'), 10, 10)[0]).toBeGreaterThan(110)
    // after rotation the white half is on top
    const rot = px('cat/exif6.jpg')
    expect(at(rot, 20, 3)[0]).toBeGreaterThan(200)
    expect(at(rot, 20, 36)[0]).toBeLessThan(50)
    const row = core.db
      .prepare(`SELECT width, height FROM images WHERE rel_path = 'cat/exif6.jpg'`)
      .get() as { width: number; height: number }
    expect(row).toEqual({ width: 20, height: 40 })
  })

  it('re-importing the same folder updates the dataset: added, changed and removed files', async () => {
    writeFileSync(
      join(root, 'bird', 'new.png'),
      await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0f0' } })
        .png()
        .toBuffer(),
    )
    unlinkSync(join(root, 'dog', 'b.jpg'))
    writeFileSync(
      join(root, 'cat', 'red.png'),
      await sharp({ create: { width: 44, height: 44, channels: 3, background: '#00f' } })
        .png()
        .toBuffer(),
    )
    const { summary } = await importAndWait(core, { path: root })
    const s = summary!
    expect(s.added).toBe(1)
    expect(s.changed).toBe(1)
    expect(s.removed).toBe(1)
    expect(s.unchanged).toBeGreaterThan(10)
    expect(Object.fromEntries(s.classes.map((c) => [c.name, c.count]))).toEqual({
      cat: 13,
      dog: 1,
      bird: 2,
    })
    const list = await ok(core.call('datasets.list', {}))
    expect(list).toHaveLength(1)
    expect(list[0].name).toBe('Messy')
    const blue = pixelsOf(list[0].id, 'cat/red.png')
    expect(Array.from(blue.subarray(0, 3))).toEqual([0, 0, 255])
  })

  it('changing the resolution re-decodes every image into the new size', async () => {
    const { summary } = await importAndWait(core, { path: root, size: 28, channels: 'gray' })
    expect(summary!.size).toBe(28)
    expect(summary!.channels).toBe('gray')
    expect(summary!.imported).toBe(16)
    const ds = (await ok(core.call('datasets.list', {})))[0]
    expect(pixelsOf(ds.id, 'dog/a.png')).toHaveLength(28 * 28)
  })

  it('refuses a path that is not a folder with a clear message', async () => {
    const r = await core.call('datasets.import', { path: join(root, 'stray.png') })
    expect(r).toEqual({
      ok: false,
      error: { code: 'invalid_argument', message: expect.stringMatching(/Not a folder/) },
    })
    const missing = await core.call('datasets.import', { path: join(root, 'nope') })
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.error.code).toBe('not_found')
  })
})
