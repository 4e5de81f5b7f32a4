import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { zipFolder, type ZipProgress } from '../../../src/core/export/zip'
import { python, sha256, tmp } from './helpers'

interface Unzipped {
  bad: string | null
  entries: { name: string; sha256: string; size: number; compress_type: number; utf8: boolean }[]
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function exportTree(): Promise<{ root: string; files: Record<string, Buffer> }> {
  const root = tmp('zip')
  dirs.push(root)
  const png = await sharp({
    create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 10, b: 10 } },
  })
    .png()
    .toBuffer()
  const files: Record<string, Buffer> = {
    'cat/x.png': png,
    'été/🐈 kitty.png': png,
    'metadata.csv': Buffer.from('file_name,label\n' + 'cat/x.png,cat\n'.repeat(200)),
    'a/b/c/deep.txt': Buffer.from('deep'),
    'empty.txt': Buffer.alloc(0),
  }
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    writeFileSync(join(root, rel), data)
  }
  // an unfinished export's journal and a temp file are not part of the dataset
  writeFileSync(join(root, '.synthfold-export.json'), '{}')
  writeFileSync(join(root, 'cat', '.y.png.abc.synthfold-tmp'), 'half')
  return { root, files }
}

describe('zipFolder', () => {
  it('zips the export so that Python reads back the same bytes', async () => {
    const { root, files } = await exportTree()
    const out = join(root, 'dataset.zip')
    const progress: ZipProgress[] = []
    const res = await zipFolder(root, out, (p) => progress.push(p))
    expect(res.entries).toBe(5)
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5 })
    const z = python('unzip.py', [out]) as Unzipped
    expect(z.bad).toBeNull()
    expect(z.entries.map((e) => e.name).sort()).toEqual(Object.keys(files).sort())
    for (const e of z.entries) {
      expect(e.sha256, e.name).toBe(sha256(files[e.name]))
      expect(e.utf8).toBe(true)
      // PNG is compressed already: stored; text is deflated
      expect(e.compress_type, e.name).toBe(e.name.endsWith('.png') ? 0 : 8)
    }
    expect(readdirSync(root).filter((n) => n.includes('synthfold-tmp'))).toEqual([])
  })

  it('never replaces an existing file, and a cancelled zip leaves nothing', async () => {
    const { root } = await exportTree()
    const out = join(root, 'dataset.zip')
    writeFileSync(out, 'precious')
    await expect(zipFolder(root, out)).rejects.toMatchObject({ code: 'exists' })
    expect(readFileSync(out, 'utf8')).toBe('precious')
    const other = join(root, 'other.zip')
    let n = 0
    await expect(zipFolder(root, other, undefined, () => ++n > 2)).rejects.toMatchObject({
      code: 'cancelled',
    })
    expect(readdirSync(root).filter((f) => f.endsWith('.zip') || f.includes('tmp'))).toEqual([
      'dataset.zip',
    ])
  })
})
